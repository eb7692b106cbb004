import { signatureHeader } from "../../src/webhooks/signature";
import { messageEvent, referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";

// Issue 12, item 2: one event whose row could not be written (a NUL in its id, an id of a few KB, data nested
// thousands of levels deep) made its whole batch answer 503, again on every retry. Each event's outcome is its own.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ STORE_MESSAGE_BODIES: "true" });
});
afterAll(() => server.close());

const signed = (raw: string) => server.postRaw(raw, { "x-postproxy-signature": signatureHeader(SECRET, raw, Math.floor(Date.now() / 1000)) });

test("a batch of good events with one poison event of each kind: every good event stored, each poison refused or kept as specified", async () => {
  const good = Array.from({ length: 30 }, (_, i) =>
    i % 2 === 0 ? referralEvent({ chat: `ch_good_${i}`, ref: `r${i}` }) : messageEvent({ chatId: `ch_good_${i}`, messageId: `msg_good_${i}` }),
  );
  const malformed = [
    JSON.stringify(referralEvent({ id: "evt_nul\u0000", chat: "ch_p1", ref: "a" })),
    JSON.stringify(referralEvent({ id: `evt_${"x".repeat(4096)}`, chat: "ch_p2", ref: "a" })),
    JSON.stringify(referralEvent({ id: "evt_lone\ud800", chat: "ch_p3", ref: "a" })),
    `{"id":"evt_deep","type":"referral.received","data":${"[".repeat(5000)}${"]".repeat(5000)}}`,
  ];
  const rejected = [
    referralEvent({ id: "evt_long_chat", chat: "c".repeat(300), ref: "a" }),
    referralEvent({ id: "evt_nul_profile", chat: { id: "ch_p5", profile_id: "p\u0000" }, ref: "a" }),
    referralEvent({ id: "evt_lone_ad", chat: "ch_p6", ref: "a", extra: { ad_id: "ad\udc00" } }),
    messageEvent({ id: "evt_nul_message", chatId: "ch_p7", messageId: "msg\u0000" }),
  ];
  const text = [
    referralEvent({ id: "evt_names", chat: { id: "ch_text", participant_name: "Ann\u0000", participant_username: "ann\ud800" }, ref: "a" }),
    messageEvent({ id: "evt_body", chatId: "ch_text", messageId: "msg_text", body: "hi\u0000 there\udfff" }),
  ];

  const [goodAnswers, malformedAnswers, rejectedAnswers, textAnswers] = await Promise.all([
    Promise.all(good.map((event) => server.deliver(event))),
    Promise.all(malformed.map(signed)),
    Promise.all(rejected.map((event) => server.deliver(event))),
    Promise.all(text.map((event) => server.deliver(event))),
  ]);

  expect(goodAnswers.map((answer) => [answer.status, answer.body.status])).toEqual(good.map(() => [200, "PROCESSED"]));
  expect(malformedAnswers.map((answer) => [answer.status, answer.body.code])).toEqual(malformed.map(() => [400, "MALFORMED_EVENT"]));
  expect(malformedAnswers.map((answer) => answer.body.error)).toEqual([
    "Event id contains a NUL character",
    "Event id is 4100 bytes long; at most 255 are allowed",
    "Event id contains a lone surrogate",
    "Body nests objects and arrays deeper than 64 levels",
  ]);
  expect(rejectedAnswers.map((answer) => [answer.status, answer.body.status])).toEqual(rejected.map(() => [200, "REJECTED"]));
  expect(textAnswers.map((answer) => [answer.status, answer.body.status])).toEqual(text.map(() => [200, "PROCESSED"]));

  const events = new Map<string, { status: string; error: string | null; raw_body: string }>(
    (await server.store.reader.query("SELECT id, status, error, raw_body FROM webhook_event")).map((row: { id: string }) => [row.id, row]),
  );
  expect(good.filter((event) => events.get(event.id)?.status !== "PROCESSED")).toEqual([]);
  expect(rejected.map((event) => events.get(event.id)?.error?.split(" ").slice(0, 2).join(" "))).toEqual([
    "chat id",
    "chat profile_id",
    "referral ad_id",
    "message id",
  ]);
  expect(events.size).toBe(good.length + rejected.length + text.length);
  // The raw body keeps the escapes as they came: text in JSON, storable on PostgreSQL too.
  expect(JSON.parse(events.get("evt_body")!.raw_body).data.message.body).toBe("hi\u0000 there\udfff");

  const [chat] = await server.store.reader.query("SELECT participant_name, participant_username FROM chat WHERE id = 'ch_text'");
  expect(chat).toEqual({ participant_name: "Ann\ufffd", participant_username: "ann\ufffd" });
  const [message] = await server.store.reader.query("SELECT body FROM message WHERE id = 'msg_text'");
  expect(message.body).toBe("hi\ufffd there\ufffd");
});
