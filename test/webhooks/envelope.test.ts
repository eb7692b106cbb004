import { Envelope, interpretEvent, parseEnvelope, storableBody } from "../../src/webhooks/envelope";
import { keyProblem, nestsDeeperThan, storableText } from "../../src/webhooks/untrusted-text";
import { WebhookEventStatus } from "../../src/webhooks/webhook-event.entity";

const CREATED = "2026-08-20T09:13:59.000Z";
const RECEIVED = new Date("2026-08-20T09:15:00.000Z");

function envelopeOf(body: unknown): Envelope {
  const parsed = parseEnvelope(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.envelope;
}

const interpret = (body: unknown, storeMessageBodies = false) => interpretEvent(envelopeOf(body), RECEIVED, storeMessageBodies);

const referralEvent = (object: Record<string, unknown>, createdAt: string | null = CREATED) => ({
  id: "evt_ref",
  object: "event",
  type: "referral.received",
  ...(createdAt ? { created_at: createdAt } : {}),
  data: { object: { source: "SHORTLINKS", type: "OPEN_THREAD", ...object } },
});

const messageEvent = (message: Record<string, unknown>, type = "message.received", createdAt: string | null = CREATED) => ({
  id: "evt_msg",
  type,
  ...(createdAt ? { created_at: createdAt } : {}),
  data: { message: { id: "msg_1", chat_id: "ch_1", body: "hello", ...message } },
});

describe("parseEnvelope", () => {
  test("a body that is not JSON is refused", () => {
    expect(parseEnvelope("{not json")).toEqual({ ok: false, reason: "Body is not valid JSON" });
    expect(parseEnvelope(Buffer.from(""))).toEqual({ ok: false, reason: "Body is not valid JSON" });
  });

  test.each(["[]", "42", "null", '"evt_1"', "true"])("JSON that is not an object (%s) is refused", (raw) => {
    expect(parseEnvelope(raw)).toEqual({ ok: false, reason: "Body is not a JSON object" });
  });

  test.each([{ type: "referral.received" }, { id: 42, type: "referral.received" }, { id: "", type: "referral.received" }])(
    "an event without a non-empty string id (%j) is refused",
    (body) => {
      expect(parseEnvelope(JSON.stringify(body))).toEqual({ ok: false, reason: "Event has no string id" });
    },
  );

  test.each([{ id: "evt_1" }, { id: "evt_1", type: 7 }, { id: "evt_1", type: "" }])("an event without a non-empty string type (%j) is refused", (body) => {
    expect(parseEnvelope(JSON.stringify(body))).toEqual({ ok: false, reason: "Event has no string type" });
  });

  test("a valid event gives its id, type, creation time and parsed body, from a string or a Buffer", () => {
    const body = { id: "evt_1", type: "referral.received", created_at: CREATED, data: { object: { ref: "a" } } };
    for (const raw of [JSON.stringify(body), Buffer.from(JSON.stringify(body))]) {
      expect(parseEnvelope(raw)).toEqual({
        ok: true,
        envelope: { id: "evt_1", type: "referral.received", createdAt: new Date(CREATED), resource: { ref: "a" }, body },
      });
    }
  });

  test("a missing or unreadable created_at leaves createdAt undefined", () => {
    expect(envelopeOf({ id: "e", type: "t" }).createdAt).toBeUndefined();
    expect(envelopeOf({ id: "e", type: "t", created_at: "yesterday-ish" }).createdAt).toBeUndefined();
    expect(envelopeOf({ id: "e", type: "t", created_at: 1787000000 }).createdAt).toBeUndefined();
  });

  describe("the resource is data.object ?? data.message ?? data", () => {
    test("data.object is read first, even beside data.message", () => {
      expect(envelopeOf({ id: "e", type: "t", data: { object: { from: "object" }, message: { from: "message" } } }).resource).toEqual({ from: "object" });
    });

    test("data.message is read when there is no data.object", () => {
      expect(envelopeOf({ id: "e", type: "t", data: { message: { from: "message" } } }).resource).toEqual({ from: "message" });
    });

    test("data itself is read when it nests nothing", () => {
      expect(envelopeOf({ id: "e", type: "t", data: { from: "data" } }).resource).toEqual({ from: "data" });
    });

    test("a data.object that is not an object is skipped", () => {
      expect(envelopeOf({ id: "e", type: "t", data: { object: "event", message: { from: "message" } } }).resource).toEqual({ from: "message" });
    });

    test("a missing or non-object data gives an empty resource", () => {
      expect(envelopeOf({ id: "e", type: "t" }).resource).toEqual({});
      expect(envelopeOf({ id: "e", type: "t", data: [1, 2] }).resource).toEqual({});
    });
  });
});

describe("interpretEvent: referral.received", () => {
  const fullChat = {
    id: "ch_8Kq2",
    profile_id: "prof_abc123",
    platform: "instagram",
    participant_external_id: "17841400000000001",
    participant_username: "jane_doe",
    participant_name: "Jane Doe",
    created_at: "2026-08-01T00:00:00.000Z",
  };

  test("a referral with a full chat object gives the chat's fields and the referral", () => {
    const result = interpret(referralEvent({ chat: fullChat, ref: "summer_promo", received_at: "2026-08-20T09:13:58.000Z" }));
    expect(result).toEqual({
      status: WebhookEventStatus.PROCESSED,
      error: null,
      chat: {
        id: "ch_8Kq2",
        profileId: "prof_abc123",
        platform: "instagram",
        participantExternalId: "17841400000000001",
        participantUsername: "jane_doe",
        participantName: "Jane Doe",
        createdAt: new Date("2026-08-01T00:00:00.000Z"),
        seenAt: new Date(CREATED),
        referral: {
          eventId: "evt_ref",
          chatId: "ch_8Kq2",
          ref: "summer_promo",
          source: "SHORTLINKS",
          type: "OPEN_THREAD",
          receivedAt: new Date("2026-08-20T09:13:58.000Z"),
          adId: null,
          adsContext: null,
        },
      },
    });
  });

  test("a referral whose chat is only an id string gives a chat with that id alone", () => {
    const result = interpret(referralEvent({ chat: "ch_only_id", ref: "a" }));
    expect(result.status).toBe(WebhookEventStatus.PROCESSED);
    expect(result.chat).toEqual({ id: "ch_only_id", seenAt: new Date(CREATED), referral: expect.objectContaining({ chatId: "ch_only_id", ref: "a" }) });
  });

  test("a referral that names its chat by chat_id is read the same way", () => {
    const result = interpret(referralEvent({ chat_id: "ch_by_chat_id", ref: "a" }));
    expect(result.chat).toEqual({ id: "ch_by_chat_id", seenAt: new Date(CREATED), referral: expect.objectContaining({ chatId: "ch_by_chat_id" }) });
  });

  test("a chat object without an id falls back to chat_id", () => {
    const result = interpret(referralEvent({ chat: { platform: "facebook" }, chat_id: "ch_fallback", ref: "a" }));
    expect(result.chat).toMatchObject({ id: "ch_fallback", platform: "facebook" });
  });

  test("an older payload with the resource directly in data is read too", () => {
    const body = { id: "evt_flat", type: "referral.received", created_at: CREATED, data: { chat: "ch_flat", ref: "flat_ref" } };
    expect(interpret(body).chat?.referral).toMatchObject({ chatId: "ch_flat", ref: "flat_ref", source: null, type: null });
  });

  test("without received_at the referral takes the envelope's created_at", () => {
    expect(interpret(referralEvent({ chat: "ch_1", ref: "a" })).chat?.referral?.receivedAt).toEqual(new Date(CREATED));
  });

  test("without received_at or created_at the referral and the chat take the time it was received", () => {
    const result = interpret(referralEvent({ chat: "ch_1", ref: "a" }, null));
    expect(result.chat?.referral?.receivedAt).toEqual(RECEIVED);
    expect(result.chat?.seenAt).toEqual(RECEIVED);
  });

  test("an ad referral keeps its ad_id and ads_context_data", () => {
    const adsContext = { ad_title: "Summer", photo_url: "https://example.com/p.jpg", post_id: "123" };
    const result = interpret(referralEvent({ chat: "ch_ad", ref: "ad_ref", source: "ADS", ad_id: "6045", ads_context_data: adsContext }));
    expect(result.chat?.referral).toMatchObject({ source: "ADS", adId: "6045" });
    expect(JSON.parse(result.chat?.referral?.adsContext as string)).toEqual(adsContext);
  });

  test.each([
    ["that is missing", undefined, "ref is missing or not a string"],
    ["that is a number", 42, "ref is missing or not a string"],
    ["that is empty", "", "ref is empty"],
    ["of 2,084 characters", "a".repeat(2084), "ref is 2084 characters long; Meta allows at most 2083"],
    ["with a space", "summer promo", "ref contains a character outside A-Z a-z 0-9 - _ ="],
    ["with a dot", "summer.promo", "ref contains a character outside A-Z a-z 0-9 - _ ="],
  ])("a ref %s is rejected with the reason", (_what, ref, reason) => {
    expect(interpret(referralEvent({ chat: "ch_1", ref }))).toEqual({ status: WebhookEventStatus.REJECTED, error: reason });
  });

  test("a ref of exactly 2,083 allowed characters is accepted", () => {
    const ref = "aZ0-_=".repeat(348).slice(0, 2083);
    expect(ref).toHaveLength(2083);
    expect(interpret(referralEvent({ chat: "ch_1", ref })).chat?.referral?.ref).toBe(ref);
  });

  test.each([{}, { chat: "" }, { chat: {} }, { chat: 42 }])("a referral without a chat id (%j) is rejected", (chat) => {
    expect(interpret(referralEvent({ ...chat, ref: "a" }))).toEqual({
      status: WebhookEventStatus.REJECTED,
      error: "referral has no chat id (chat or chat_id)",
    });
  });
});

describe("interpretEvent: message.received", () => {
  const POSTED = "2026-08-20T09:14:30.000Z";

  test("an inbound message is recorded and marks the chat's inbound time", () => {
    const result = interpret(messageEvent({ external_posted_at: POSTED, external_id: "mid.1" }));
    expect(result).toEqual({
      status: WebhookEventStatus.PROCESSED,
      error: null,
      chat: { id: "ch_1", seenAt: new Date(CREATED), inboundAt: new Date(POSTED), referral: undefined },
      message: {
        id: "msg_1",
        chatId: "ch_1",
        direction: "inbound",
        status: "received",
        body: null,
        postedAt: new Date(POSTED),
        tappedAction: null,
        externalId: "mid.1",
        errorMessage: null,
        statusAt: null,
      },
    });
  });

  test("the posted time falls back to the message's created_at, then the envelope's, then the time received", () => {
    expect(interpret(messageEvent({ created_at: POSTED })).message?.postedAt).toEqual(new Date(POSTED));
    expect(interpret(messageEvent({})).message?.postedAt).toEqual(new Date(CREATED));
    const late = interpret(messageEvent({}, "message.received", null));
    expect(late.message?.postedAt).toEqual(RECEIVED);
    expect(late.chat?.inboundAt).toEqual(RECEIVED);
  });

  test("the message body is kept only when storing bodies is on", () => {
    expect(interpret(messageEvent({ body: "hi there" }), false).message?.body).toBeNull();
    expect(interpret(messageEvent({ body: "hi there" }), true).message?.body).toBe("hi there");
  });

  test("a quick-reply or ice-breaker tap is kept as JSON", () => {
    const tap = { kind: "ice_breaker", payload: "PRICES", title: "What are your prices?" };
    const result = interpret(messageEvent({ tapped_action: tap }));
    expect(JSON.parse(result.message?.tappedAction as string)).toEqual(tap);
  });

  test("a referral on the message becomes the chat's referral at the message's posted time", () => {
    const result = interpret(messageEvent({ external_posted_at: POSTED, referral: { ref: "in_first_message", source: "SHORTLINKS" } }));
    expect(result.status).toBe(WebhookEventStatus.PROCESSED);
    expect(result.error).toBeNull();
    expect(result.chat?.referral).toEqual({
      eventId: "evt_msg",
      chatId: "ch_1",
      ref: "in_first_message",
      source: "SHORTLINKS",
      type: null,
      receivedAt: new Date(POSTED),
      adId: null,
      adsContext: null,
    });
    expect(result.message?.id).toBe("msg_1");
  });

  test("a referral in platform_data becomes the chat's referral, keeping its own received_at", () => {
    const referral = { ref: "ice_breaker_ref", received_at: "2026-08-20T09:14:00.000Z" };
    const result = interpret(messageEvent({ external_posted_at: POSTED, platform_data: { referral } }));
    expect(result.chat?.referral).toMatchObject({ ref: "ice_breaker_ref", receivedAt: new Date("2026-08-20T09:14:00.000Z") });
    expect(result.chat?.inboundAt).toEqual(new Date(POSTED));
  });

  test("a bad referral inside a message keeps the message processed, with a note and no referral", () => {
    const result = interpret(messageEvent({ external_posted_at: POSTED, referral: { ref: "has space" } }));
    expect(result.status).toBe(WebhookEventStatus.PROCESSED);
    expect(result.error).toBe("message recorded; its referral was not: ref contains a character outside A-Z a-z 0-9 - _ =");
    expect(result.chat).toEqual({ id: "ch_1", seenAt: new Date(CREATED), inboundAt: new Date(POSTED) });
    expect(result.message).toMatchObject({ id: "msg_1", direction: "inbound" });
  });

  test("a message without an id is rejected", () => {
    expect(interpret(messageEvent({ id: undefined }))).toEqual({ status: WebhookEventStatus.REJECTED, error: "message has no id" });
  });

  test("a message without a chat id is rejected", () => {
    expect(interpret(messageEvent({ chat_id: undefined }))).toEqual({
      status: WebhookEventStatus.REJECTED,
      error: "message has no chat id (chat_id or chat)",
    });
  });
});

describe("interpretEvent: outbound message events", () => {
  test.each([
    ["message.sent", "sent", { external_posted_at: "2026-08-20T10:00:01.000Z" }, "2026-08-20T10:00:01.000Z"],
    ["message.delivered", "delivered", { external_delivered_at: "2026-08-20T10:00:02.000Z" }, "2026-08-20T10:00:02.000Z"],
    ["message.read", "read", { external_read_at: "2026-08-20T10:00:03.000Z" }, "2026-08-20T10:00:03.000Z"],
    ["message.failed", "failed", {}, CREATED],
    ["message.failed_waiting_for_retry", "failed_waiting_for_retry", {}, CREATED],
  ])("%s sets outbound status %s at its own time, or the event's", (type, status, times, statusAt) => {
    const result = interpret(messageEvent({ direction: "outbound", ...times }, type), true);
    expect(result.status).toBe(WebhookEventStatus.PROCESSED);
    expect(result.chat).toEqual({ id: "ch_1", seenAt: new Date(CREATED) });
    expect(result.message).toMatchObject({ id: "msg_1", chatId: "ch_1", direction: "outbound", status, body: null, statusAt: new Date(statusAt) });
  });

  test("a failed message keeps its error message and external id", () => {
    const result = interpret(messageEvent({ error_message: "Outside the messaging window", external_id: "mid.9" }, "message.failed"));
    expect(result.message).toMatchObject({ errorMessage: "Outside the messaging window", externalId: "mid.9" });
  });

  test("an outbound message has no posted time unless the payload gives one", () => {
    expect(interpret(messageEvent({}, "message.failed")).message?.postedAt).toBeNull();
    expect(interpret(messageEvent({ created_at: "2026-08-20T10:00:00.000Z" }, "message.failed")).message?.postedAt).toEqual(
      new Date("2026-08-20T10:00:00.000Z"),
    );
  });

  test("a referral on an outbound message is not read", () => {
    expect(interpret(messageEvent({ referral: { ref: "x" } }, "message.sent")).chat?.referral).toBeUndefined();
  });
});

describe("interpretEvent: other events", () => {
  test.each(["post.published", "message.edited", "reaction.received"])("%s is ignored with a note", (type) => {
    expect(interpret({ id: "evt_other", type, data: { object: { id: "x", chat_id: "ch_1" } } })).toEqual({
      status: WebhookEventStatus.IGNORED,
      error: `refgraph does not handle ${type} events`,
    });
  });

  // Regression: the outbound-status lookup once matched Object.prototype members, so these became outbound messages.
  test.each(["toString", "constructor", "__proto__", "hasOwnProperty"])("a type named like an object property (%s) is ignored", (type) => {
    expect(interpret({ id: "evt_odd", type, data: { id: "msg_1", chat_id: "ch_1" } }).status).toBe(WebhookEventStatus.IGNORED);
  });
});

describe("storableBody", () => {
  test("removes the message body unless storing bodies, keeping everything else", () => {
    const event = messageEvent({ body: "secret text", tapped_action: { kind: "quick_reply", payload: "YES", title: "Yes" } });
    const raw = JSON.stringify(event);
    const stored = JSON.parse(storableBody(envelopeOf(event), raw, false));
    expect(stored.data.message.body).toBeNull();
    expect(stored).toEqual({ ...event, data: { message: { ...event.data.message, body: null } } });
  });

  test("removes the body where the resource is, in data.object or directly in data", () => {
    const nested = { id: "e1", type: "message.received", data: { object: { id: "m", chat_id: "c", body: "x" } } };
    const flat = { id: "e2", type: "message.received", data: { id: "m", chat_id: "c", body: "x" } };
    expect(JSON.parse(storableBody(envelopeOf(nested), JSON.stringify(nested), false)).data.object.body).toBeNull();
    expect(JSON.parse(storableBody(envelopeOf(flat), JSON.stringify(flat), false)).data.body).toBeNull();
  });

  test("removes the body of outbound message events too", () => {
    const event = messageEvent({ body: "our greeting" }, "message.sent");
    expect(JSON.parse(storableBody(envelopeOf(event), JSON.stringify(event), false)).data.message.body).toBeNull();
  });

  test("returns the raw body unchanged when storing bodies", () => {
    const raw = JSON.stringify(messageEvent({ body: "keep me" }), null, 2);
    expect(storableBody(envelopeOf(JSON.parse(raw)), raw, true)).toBe(raw);
  });

  test("returns the raw body unchanged for non-message events and messages without a body", () => {
    const referral = JSON.stringify(referralEvent({ chat: "ch_1", ref: "a", body: "not a message" }));
    expect(storableBody(envelopeOf(JSON.parse(referral)), referral, false)).toBe(referral);
    const noBody = { id: "e", type: "message.delivered", data: { message: { id: "m", chat_id: "c" } } };
    expect(storableBody(envelopeOf(noBody), JSON.stringify(noBody), false)).toBe(JSON.stringify(noBody));
  });

  test("never mutates the envelope", () => {
    const envelope = envelopeOf(messageEvent({ body: "secret text" }));
    const before = structuredClone(envelope);
    storableBody(envelope, JSON.stringify(envelope.body), false);
    expect(envelope).toEqual(before);
    expect(envelope.resource.body).toBe("secret text");
  });
});

describe("untrusted text", () => {
  const LONE = "\ud800";

  test("a key is at most 255 UTF-8 bytes, counted in bytes, not characters", () => {
    expect(keyProblem("a".repeat(255))).toBeNull();
    expect(keyProblem("a".repeat(256))).toBe("is 256 bytes long; at most 255 are allowed");
    expect(keyProblem("é".repeat(128))).toBe("is 256 bytes long; at most 255 are allowed");
    expect(keyProblem("😀".repeat(63))).toBeNull();
  });

  test("a key holds no NUL character and no lone surrogate; a surrogate pair is fine", () => {
    expect(keyProblem("evt\u00001")).toBe("contains a NUL character");
    expect(keyProblem(`evt${LONE}`)).toBe("contains a lone surrogate");
    expect(keyProblem("\udc00evt")).toBe("contains a lone surrogate");
    expect(keyProblem("evt_😀")).toBeNull();
  });

  test("free text keeps what it can and turns NUL and lone surrogates into U+FFFD", () => {
    expect(storableText(`a\u0000b${LONE}c😀`)).toBe("a\ufffdb\ufffdc😀");
    expect(storableText("plain")).toBe("plain");
  });

  test("nesting depth counts objects and arrays, not brackets inside strings or escaped quotes", () => {
    expect(nestsDeeperThan('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[{"b":1}]}', 2)).toBe(true);
    expect(nestsDeeperThan(`{"a":"${"[".repeat(100)}"}`, 1)).toBe(false);
    expect(nestsDeeperThan(`{"a":"\\"","b":${"[".repeat(5)}`, 5)).toBe(true);
    expect(nestsDeeperThan(`{"a":"\\\\","b":[[]]}`, 2)).toBe(true);
    expect(nestsDeeperThan("[".repeat(64) + "]".repeat(64), 64)).toBe(false);
  });

  test("a body nested a million levels is measured without recursion", () => {
    expect(nestsDeeperThan("[".repeat(1_000_000) + "]".repeat(1_000_000), 64)).toBe(true);
  });
});

describe("poison events", () => {
  const body = (fields: Record<string, unknown>) => JSON.stringify({ id: "evt_1", type: "referral.received", ...fields });

  test.each([
    ["id", "x".repeat(4096), "Event id is 4096 bytes long; at most 255 are allowed"],
    ["id", "evt\u0000", "Event id contains a NUL character"],
    ["id", "evt\ud800", "Event id contains a lone surrogate"],
    ["type", "referral.received\u0000", "Event type contains a NUL character"],
    ["type", "t".repeat(300), "Event type is 300 bytes long; at most 255 are allowed"],
  ])("an envelope %s that cannot be a key (%#) is refused as malformed", (field, value, reason) => {
    expect(parseEnvelope(body({ [field]: value }))).toEqual({ ok: false, reason });
  });

  test("a body nested deeper than 64 levels is refused before it is parsed, at any depth below that it is not", () => {
    const nested = (depth: number) => body({ data: JSON.parse("[".repeat(depth - 1) + "]".repeat(depth - 1)) });
    expect(parseEnvelope(nested(64)).ok).toBe(true);
    expect(parseEnvelope(nested(65))).toEqual({ ok: false, reason: "Body nests objects and arrays deeper than 64 levels" });
    const deep = `{"id":"evt_1","type":"referral.received","data":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    expect(parseEnvelope(deep)).toEqual({ ok: false, reason: "Body nests objects and arrays deeper than 64 levels" });
  });

  test.each([
    ["chat id", referralEvent({ chat: "c".repeat(256), ref: "a" })],
    ["chat profile_id", referralEvent({ chat: { id: "ch_1", profile_id: "p\u0000" }, ref: "a" })],
    ["chat platform", referralEvent({ chat: { id: "ch_1", platform: "ig\ud800" }, ref: "a" })],
    ["chat participant_external_id", referralEvent({ chat: { id: "ch_1", participant_external_id: "x".repeat(1000) }, ref: "a" })],
    ["referral ad_id", referralEvent({ chat: "ch_1", ref: "a", ad_id: "ad\u0000" })],
    ["message id", messageEvent({ id: "m\udfff" })],
    ["chat id", messageEvent({ chat_id: "ch\u0000" })],
    ["message external_id", messageEvent({ external_id: "e".repeat(300) }, "message.sent")],
  ])("an inner id that cannot be a key (%s) keeps the event REJECTED, naming the field", (field, event) => {
    const interpretation = interpret(event);
    expect(interpretation.status).toBe(WebhookEventStatus.REJECTED);
    expect(interpretation.error).toMatch(new RegExp(`^${field} (is \\d+ bytes long|contains a)`));
    expect(interpretation.chat).toBeUndefined();
  });

  test("NUL and lone surrogates in free text are stored as U+FFFD", () => {
    const referral = interpret(referralEvent({ chat: { id: "ch_1", participant_name: "Ann\u0000", participant_username: "a\ud800" }, ref: "a", source: "S\u0000" }));
    expect(referral.status).toBe(WebhookEventStatus.PROCESSED);
    expect(referral.chat).toMatchObject({ participantName: "Ann\ufffd", participantUsername: "a\ufffd", referral: { source: "S\ufffd" } });
    const message = interpret(messageEvent({ body: "hi\u0000\udc00" }), true);
    expect(message.message?.body).toBe("hi\ufffd\ufffd");
    expect(interpret(messageEvent({ error_message: "boom\u0000" }, "message.failed")).message?.errorMessage).toBe("boom\ufffd");
  });
});
