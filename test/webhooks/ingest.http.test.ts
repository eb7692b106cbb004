import { messageEvent, referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";
import { signatureHeader } from "../../src/webhooks/signature";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const count = async (table: string, where = "1 = 1") => Number((await server.store.reader.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`))[0].n);
const inbox = async (id: string) => (await server.store.reader.query(`SELECT * FROM webhook_event WHERE id = '${id}'`))[0];
const chat = async (id: string) =>
  (
    await server.graphql(
      `query($id: ID!) { chat(id: $id) { id profileId platform participant { externalId username name } lastInboundAt
        metadata { referral { ref source type receivedAt } lastReferralAt }
        referrals(first: 100) { totalCount edges { node { ref eventId receivedAt adId source isNewChat } } } } }`,
      { id },
    )
  ).body.data.chat;

describe("signatures", () => {
  test("a delivery without a signature is refused with 401 and nothing is stored", async () => {
    const event = referralEvent({ chat: "ch_unsigned", ref: "a" });
    const response = await server.postRaw(JSON.stringify(event), {});
    expect(response.status).toBe(401);
    expect(response.body.error).toMatch(/Missing X-Postproxy-Signature/);
    expect(await count("webhook_event", `id = '${event.id}'`)).toBe(0);
  });

  test("a tampered body is refused with 401 and nothing is stored", async () => {
    const event = referralEvent({ chat: "ch_tampered", ref: "a" });
    const signed = JSON.stringify(event);
    const header = signatureHeader(SECRET, signed, Math.floor(Date.now() / 1000));
    const response = await server.postRaw(signed.replace('"ref":"a"', '"ref":"b"'), { "x-postproxy-signature": header });
    expect(response.status).toBe(401);
    expect(await count("webhook_event", `id = '${event.id}'`)).toBe(0);
    expect(await count("chat", "id = 'ch_tampered'")).toBe(0);
  });

  test("a signature made with another secret is refused with 401", async () => {
    const body = JSON.stringify(referralEvent({ chat: "ch_x", ref: "a" }));
    const response = await server.postRaw(body, { "x-postproxy-signature": signatureHeader("whsec_other", body, 1) });
    expect(response).toMatchObject({ status: 401, body: { code: "INVALID_SIGNATURE" } });
  });

  test("a bad signature is refused before the body is parsed", async () => {
    const response = await server.postRaw("not json", { "x-postproxy-signature": "t=1,v1=00" });
    expect(response.status).toBe(401);
  });
});

describe("malformed deliveries", () => {
  const signed = (body: string) => server.postRaw(body, { "x-postproxy-signature": signatureHeader(SECRET, body, Math.floor(Date.now() / 1000)) });

  test("a signed body that is not JSON gets 400 with a JSON error", async () => {
    expect(await signed("{not json")).toEqual({ status: 400, body: { error: "Body is not valid JSON", code: "MALFORMED_EVENT" } });
  });

  test("an event without a string id or type gets 400 naming what is missing", async () => {
    expect((await signed(JSON.stringify({ type: "referral.received" }))).body.error).toBe("Event has no string id");
    expect((await signed(JSON.stringify({ id: 42, type: "referral.received" }))).status).toBe(400);
    expect((await signed(JSON.stringify({ id: "evt_no_type" }))).body.error).toBe("Event has no string type");
  });

  test("a body over 1 MiB gets 413", async () => {
    const event = referralEvent({ chat: "ch_big", ref: "big", extra: { padding: "x".repeat(1024 * 1024) } });
    const response = await server.deliver(event);
    expect(response).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    expect(await count("webhook_event", `id = '${event.id}'`)).toBe(0);
  });
});

describe("referral.received", () => {
  test("the chat is created with its fields, the referral joins its history, and metadata.referral is set", async () => {
    const event = referralEvent({
      chat: { id: "ch_full", profile_id: "prof_1", platform: "instagram", participant_external_id: "1784", participant_username: "jane", participant_name: "Jane Doe" },
      ref: "summer_promo",
      source: "ADS",
      receivedAt: Date.parse("2026-08-20T09:13:58Z"),
      extra: { ad_id: "ad_77", ads_context_data: { ad_title: "Summer" } },
    });
    expect((await server.deliver(event)).body).toEqual({ id: event.id, status: "PROCESSED", duplicate: false });
    expect(await chat("ch_full")).toEqual({
      id: "ch_full",
      profileId: "prof_1",
      platform: "instagram",
      participant: { externalId: "1784", username: "jane", name: "Jane Doe" },
      lastInboundAt: null,
      metadata: {
        referral: { ref: "summer_promo", source: "ADS", type: "OPEN_THREAD", receivedAt: "2026-08-20T09:13:58.000Z" },
        lastReferralAt: "2026-08-20T09:13:58.000Z",
      },
      referrals: {
        totalCount: 1,
        edges: [{ node: { ref: "summer_promo", eventId: event.id, receivedAt: "2026-08-20T09:13:58.000Z", adId: "ad_77", source: "ADS", isNewChat: true } }],
      },
    });
  });

  test("a chat sent only as an id is filled in when a later event carries the chat object", async () => {
    await server.deliver(referralEvent({ chat: "ch_idonly", ref: "first" }));
    expect((await chat("ch_idonly")).platform).toBeNull();
    await server.deliver(referralEvent({ chat: { id: "ch_idonly", platform: "facebook", participant_username: "joe" }, ref: "second" }));
    const filled = await chat("ch_idonly");
    expect(filled.platform).toBe("facebook");
    expect(filled.participant.username).toBe("joe");
    expect(filled.referrals.totalCount).toBe(2);
  });

  test("received_at falls back to the envelope's created_at, and a flat data payload is read too", async () => {
    const createdAt = Date.parse("2026-09-01T10:00:00Z");
    await server.deliver(referralEvent({ chat: "ch_fallback", ref: "flat", receivedAt: null, createdAt, nesting: "flat" }));
    expect((await chat("ch_fallback")).metadata.referral.receivedAt).toBe("2026-09-01T10:00:00.000Z");
  });

  test("a late delivery joins the history but never replaces a newer referral", async () => {
    const t = Date.parse("2026-10-01T12:00:00Z");
    await server.deliver(referralEvent({ chat: "ch_late", ref: "newer", receivedAt: t + 60_000 }));
    await server.deliver(referralEvent({ chat: "ch_late", ref: "older", receivedAt: t }));
    const late = await chat("ch_late");
    expect(late.metadata.referral.ref).toBe("newer");
    expect(late.metadata.lastReferralAt).toBe(new Date(t + 60_000).toISOString());
    expect(late.referrals.edges.map((e: any) => [e.node.ref, e.node.isNewChat])).toEqual([
      ["newer", false],
      ["older", true],
    ]);
  });

  test("a duplicate event id is answered 200, counted, and has no second effect", async () => {
    const event = referralEvent({ chat: "ch_dup", ref: "dup" });
    await server.deliver(event);
    const again = await server.deliver(event, { "x-postproxy-delivery": "dlv_retry" });
    expect(again).toEqual({ status: 200, body: { id: event.id, status: "PROCESSED", duplicate: true } });
    await server.deliver(event);
    expect((await chat("ch_dup")).referrals.totalCount).toBe(1);
    const { body } = await server.graphql(`{ webhookEvents(filter: { type: "referral.received" }, first: 100) { edges { node { id duplicates status } } } }`);
    expect(body.data.webhookEvents.edges.find((e: any) => e.node.id === event.id).node).toEqual({ id: event.id, duplicates: 2, status: "PROCESSED" });
  });

  test("a duplicate that arrives together with its original is counted too", async () => {
    const event = referralEvent({ chat: "ch_dup_together", ref: "dup" });
    // Deliveries in front keep a batch committing while the copies arrive, so the copies share the next batch.
    const inFront = Array.from({ length: 8 }, (_, i) => server.deliver(referralEvent({ chat: "ch_dup_front", ref: `front_${i}` })));
    const answers = await Promise.all([...inFront, ...Array.from({ length: 4 }, () => server.deliver(event))]);
    expect(answers.slice(8).filter((a) => a.body.duplicate)).toHaveLength(3);
    expect(Number((await inbox(event.id)).duplicates)).toBe(3);
  });

  test.each([
    ["an empty ref", "", "ref is empty"],
    ["a ref of 2,084 characters", "a".repeat(2084), "ref is 2084 characters long; Meta allows at most 2083"],
    ["a ref with a character Meta does not allow", "summer promo!", "ref contains a character outside A-Z a-z 0-9 - _ ="],
    ["a ref that is not a string", 12, "ref is missing or not a string"],
  ])("%s is REJECTED with the reason, kept in the inbox, and answered 200", async (_name, ref, reason) => {
    const event = referralEvent({ chat: "ch_badref", ref });
    expect(await server.deliver(event)).toEqual({ status: 200, body: { id: event.id, status: "REJECTED", duplicate: false } });
    expect(await inbox(event.id)).toMatchObject({ status: "REJECTED", error: reason });
    expect(await count("referral", "chat_id = 'ch_badref'")).toBe(0);
  });

  test("a ref of exactly 2,083 allowed characters is accepted", async () => {
    const ref = "Az09-_=".repeat(300).slice(0, 2083);
    await server.deliver(referralEvent({ chat: "ch_longref", ref }));
    expect((await chat("ch_longref")).metadata.referral.ref).toBe(ref);
  });

  test("a referral without a chat id is REJECTED", async () => {
    const event = referralEvent({ chat: undefined as unknown as string, ref: "nochat" });
    expect((await server.deliver(event)).body.status).toBe("REJECTED");
    expect((await inbox(event.id)).error).toMatch(/no chat id/);
  });

  test("an unknown event type is IGNORED and kept", async () => {
    const event = { id: "evt_post_published", type: "post.published", created_at: new Date().toISOString(), data: { object: { id: "post_1" } } };
    expect((await server.deliver(event)).body).toEqual({ id: event.id, status: "IGNORED", duplicate: false });
    expect(await inbox(event.id)).toMatchObject({ type: "post.published", status: "IGNORED" });
  });
});

describe("messages", () => {
  test("message.received records the message without its body, creates the chat and advances lastInboundAt", async () => {
    const postedAt = Date.parse("2026-11-01T08:00:00Z");
    const event = messageEvent({ chatId: "ch_msg", messageId: "msg_in_1", postedAt, body: "secret text", extra: { tapped_action: { kind: "ice_breaker", payload: "P", title: "Hi" } } });
    expect((await server.deliver(event)).body.status).toBe("PROCESSED");
    expect((await chat("ch_msg")).lastInboundAt).toBe("2026-11-01T08:00:00.000Z");
    const [message] = await server.store.reader.query("SELECT * FROM message WHERE id = 'msg_in_1'");
    expect(message).toMatchObject({ chat_id: "ch_msg", direction: "inbound", status: "received", body: null });
    expect(JSON.parse(message.tapped_action)).toEqual({ kind: "ice_breaker", payload: "P", title: "Hi" });
    expect((await inbox(event.id)).raw_body).not.toContain("secret text");
  });

  test("an older inbound message never moves lastInboundAt back", async () => {
    await server.deliver(messageEvent({ chatId: "ch_msg2", postedAt: Date.parse("2026-11-02T08:00:00Z") }));
    await server.deliver(messageEvent({ chatId: "ch_msg2", postedAt: Date.parse("2026-11-02T07:00:00Z") }));
    expect((await chat("ch_msg2")).lastInboundAt).toBe("2026-11-02T08:00:00.000Z");
  });

  test("a referral carried in a message and in a referral event is recorded once", async () => {
    const at = Date.parse("2026-11-03T09:00:00Z");
    await server.deliver(messageEvent({ chatId: "ch_embedded", postedAt: at, extra: { referral: { ref: "qr_berlin", source: "SHORTLINK", type: "OPEN_THREAD" } } }));
    await server.deliver(referralEvent({ chat: "ch_embedded", ref: "qr_berlin", source: "SHORTLINK", receivedAt: at }));
    await server.deliver(messageEvent({ chatId: "ch_embedded", postedAt: at, extra: { platform_data: { referral: { ref: "qr_berlin" } } } }));
    const embedded = await chat("ch_embedded");
    expect(embedded.referrals.totalCount).toBe(1);
    expect(embedded.referrals.edges[0].node).toMatchObject({ ref: "qr_berlin", isNewChat: true });
  });

  test.each([
    ["message first", ["message", "referral"]],
    ["referral event first", ["referral", "message"]],
  ])("details only the referral event has fill in the referral the message carried (%s)", async (name, order) => {
    const chatId = `ch_fill_${name.split(" ")[0]}`;
    const at = Date.parse("2026-11-03T10:00:00Z");
    const events = {
      message: messageEvent({ chatId, postedAt: at, extra: { platform_data: { referral: { ref: "ad_summer" } } } }),
      referral: referralEvent({ chat: chatId, ref: "ad_summer", source: "ADS", receivedAt: at, extra: { ad_id: "ad_9" } }),
    } as Record<string, object>;
    for (const kind of order) await server.deliver(events[kind]);
    const filled = await chat(chatId);
    expect(filled.referrals.totalCount).toBe(1);
    expect(filled.referrals.edges[0].node).toMatchObject({ ref: "ad_summer", source: "ADS", adId: "ad_9" });
    expect(filled.metadata.referral).toMatchObject({ ref: "ad_summer", source: "ADS", type: "OPEN_THREAD" });
  });

  test("a second report of a referral, under another event id, fills the first one's gaps and changes nothing else", async () => {
    const at = Date.parse("2026-11-03T11:00:00Z");
    await server.deliver(referralEvent({ chat: "ch_twice", ref: "earlier", receivedAt: at - 60_000 }));
    await server.deliver(referralEvent({ chat: "ch_twice", ref: "twice", source: "SHORTLINKS", receivedAt: at }));
    await server.deliver(referralEvent({ chat: "ch_twice", ref: "twice", source: "ADS", receivedAt: at, extra: { ad_id: "ad_5" } }));
    const twice = await chat("ch_twice");
    expect(twice.referrals.totalCount).toBe(2);
    expect(twice.referrals.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({ ref: "twice", source: "SHORTLINKS", adId: "ad_5", isNewChat: false }),
      expect.objectContaining({ ref: "earlier", isNewChat: true }),
    ]);
  });

  test("a message without a chat id is REJECTED", async () => {
    const event = messageEvent({ chatId: null });
    expect((await server.deliver(event)).body.status).toBe("REJECTED");
  });

  test("outbound status events record each change and never move a message back", async () => {
    const base = Date.parse("2026-11-04T10:00:00Z");
    const outbound = (type: string, minutes: number, extra = {}) =>
      messageEvent({ type, chatId: "ch_out", messageId: "msg_out_1", postedAt: base + minutes * 60_000, extra });
    await server.deliver(outbound("message.read", 3, { external_read_at: new Date(base + 3 * 60_000).toISOString() }));
    await server.deliver(outbound("message.sent", 1, { external_id: "m_ext_1" }));
    await server.deliver(outbound("message.delivered", 2, { external_delivered_at: new Date(base + 2 * 60_000).toISOString() }));
    const [message] = await server.store.reader.query("SELECT * FROM message WHERE id = 'msg_out_1'");
    expect(message).toMatchObject({ direction: "outbound", status: "read", external_id: "m_ext_1" });
    expect([message.sent_at, message.delivered_at, message.read_at].map(Number)).toEqual([base + 60_000, base + 120_000, base + 180_000]);
    expect((await chat("ch_out")).lastInboundAt).toBeNull();
  });

  test("message.failed keeps Postproxy's error message", async () => {
    await server.deliver(messageEvent({ type: "message.failed", chatId: "ch_out", messageId: "msg_out_2", extra: { error_message: "outside window" } }));
    const [message] = await server.store.reader.query("SELECT status, error_message FROM message WHERE id = 'msg_out_2'");
    expect(message).toEqual({ status: "failed", error_message: "outside window" });
  });
});

describe("concurrency", () => {
  test("64 concurrent deliveries all get 200 and every row is counted exactly", async () => {
    const events = Array.from({ length: 64 }, (_, i) =>
      i % 2 === 0
        ? referralEvent({ chat: `ch_conc_${i % 8}`, ref: `conc_${i}`, receivedAt: Date.parse("2026-11-05T00:00:00Z") + i * 1000 })
        : messageEvent({ chatId: `ch_conc_${i % 8}`, messageId: `msg_conc_${i}`, postedAt: Date.parse("2026-11-05T00:00:00Z") + i * 1000 }),
    );
    const duplicates = events.slice(0, 16);
    const responses = await Promise.all([...events, ...duplicates].map((event) => server.deliver(event)));
    expect(responses.map((r) => r.status)).toEqual(Array(80).fill(200));
    expect(responses.filter((r) => r.body.duplicate)).toHaveLength(16);
    expect(await count("webhook_event", "id IN (" + events.map((e) => `'${e.id}'`).join(",") + ")")).toBe(64);
    expect(await count("referral", "ref LIKE 'conc_%'")).toBe(32);
    expect(await count("message", "id LIKE 'msg_conc_%'")).toBe(32);
    expect(await count("chat", "id LIKE 'ch_conc_%'")).toBe(8);
    const duplicateTotal = await server.store.reader.query("SELECT SUM(duplicates) AS n FROM webhook_event WHERE id IN (" + duplicates.map((e) => `'${e.id}'`).join(",") + ")");
    expect(Number(duplicateTotal[0].n)).toBe(16);
  });
});
