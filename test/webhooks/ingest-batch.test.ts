import { Chat } from "../../src/chats/chat.entity";
import { mergeChat } from "../../src/chats/chat-state";
import { GreetingStatus } from "../../src/greetings/greeting.entity";
import { GreetingRule } from "../../src/greetings/greeting-rule.entity";
import { GreetingTrigger } from "../../src/greetings/rule-matching";
import { parseKeyValueRef } from "../../src/referrals/ref-grammar";
import { Referral } from "../../src/referrals/referral.entity";
import { interpretEvent, parseEnvelope } from "../../src/webhooks/envelope";
import { Loaded, planBatch } from "../../src/webhooks/ingest-batch";
import { Delivery } from "../../src/webhooks/webhook-event.ingest";
import { WebhookEvent, WebhookEventStatus } from "../../src/webhooks/webhook-event.entity";
import { messageEvent, referralEvent } from "../helpers/events";

// planBatch is the whole of what one batch decides, with no database: these build what the load phase would have read.

const NOW = Date.parse("2026-11-10T12:00:00Z");
const HOUR = 3_600_000;

function delivery(event: object, replayOf?: WebhookEvent): Delivery {
  const rawBody = JSON.stringify(event);
  const parsed = parseEnvelope(rawBody);
  if (!parsed.ok) throw new Error(parsed.reason);
  return { envelope: parsed.envelope, rawBody, deliveryId: null, receivedAt: new Date(NOW), replayOf };
}

function loaded(overrides: Partial<Loaded> = {}): Loaded {
  return {
    events: new Map(),
    chats: new Map(),
    messages: new Map(),
    history: { referrals: new Map(), replies: new Map(), chats: overrides.chats ?? new Map() },
    rules: [],
    revision: 7,
    readAt: 1,
    ...overrides,
  };
}

function plan(batch: Delivery[], stored: Loaded = loaded()) {
  const interpretations = batch.map((d) => interpretEvent(d.envelope, d.receivedAt, true));
  return planBatch(batch, interpretations, stored, { grammar: parseKeyValueRef, storeMessageBodies: true, now: new Date(NOW) });
}

/** A chat as a stored referral left it. */
function storedChat(id: string, ref: string, at: number, platform = "instagram"): Chat {
  return mergeChat(null, { id, platform, seenAt: new Date(at), referral: { eventId: "evt_old", chatId: id, ref, source: null, type: null, receivedAt: new Date(at), adId: null, adsContext: null } });
}

function storedReferral(chatId: string, ref: string, at: number): Referral {
  return Object.assign(new Referral(), { id: 41, eventId: "evt_old", chatId, ref, source: null, type: null, receivedAt: new Date(at), adId: null, adsContext: null, firstReplyAt: null, lastTouchReplyAt: null, isFirstTouch: true, isNewChat: true });
}

function rule(trigger: GreetingTrigger, body = "Hi {{participant.name}}, welcome from {{campaign}}"): GreetingRule {
  return Object.assign(new GreetingRule(), { id: `rule_${trigger}`, name: trigger.toLowerCase(), refPattern: "*", platform: null, trigger, body, priority: 0, enabled: true, createdAt: new Date(0), updatedAt: new Date(0) });
}

test("a first referral makes an inbox row, a chat and a referral that is its chat's first touch", () => {
  const result = plan([delivery(referralEvent({ id: "evt_1", chat: { id: "ch_a", platform: "instagram" }, ref: "c=spring", receivedAt: NOW - HOUR }))]);
  expect(result.inbox.outcomes).toEqual([{ status: WebhookEventStatus.PROCESSED, duplicate: false }]);
  expect(result.inbox.rows.map((row) => [row.id, row.status, row.duplicates])).toEqual([["evt_1", WebhookEventStatus.PROCESSED, 0]]);
  expect(result.chats.rows).toMatchObject([{ id: "ch_a", platform: "instagram", referralRef: "c=spring", firstReferralRef: "c=spring" }]);
  expect(result.referrals.rows).toMatchObject([{ chatId: "ch_a", ref: "c=spring", campaign: "spring", isFirstTouch: true, isNewChat: true, firstReplyAt: null }]);
  expect(result.referrals.rows[0].id).toBeUndefined();
  expect(result.analytics).toEqual({ ofChats: [], greetedInChats: [], ofGreetingMessages: [] });
  expect(result.greetings).toEqual({ queue: [], settle: [] });
});

test("repeats are answered as duplicates and applied once: within the batch on the first, stored ones by count", () => {
  const event = referralEvent({ id: "evt_new", chat: "ch_a", ref: "bio", receivedAt: NOW - HOUR });
  const storedEvent = referralEvent({ id: "evt_stored", chat: "ch_b", ref: "bio", receivedAt: NOW - HOUR });
  const result = plan([delivery(event), delivery(storedEvent), delivery(event), delivery(storedEvent), delivery(storedEvent)], loaded({ events: new Map([["evt_stored", WebhookEventStatus.REJECTED]]) }));
  expect(result.inbox.outcomes.map((o) => [o.status, o.duplicate])).toEqual([
    [WebhookEventStatus.PROCESSED, false],
    [WebhookEventStatus.REJECTED, true],
    [WebhookEventStatus.PROCESSED, true],
    [WebhookEventStatus.REJECTED, true],
    [WebhookEventStatus.REJECTED, true],
  ]);
  expect(result.inbox.rows.map((row) => [row.id, row.duplicates])).toEqual([["evt_new", 1]]);
  expect(result.inbox.repeats).toEqual(new Map([[3, ["evt_stored"]]]));
  expect(result.referrals.rows.map((r) => r.chatId)).toEqual(["ch_a"]);
});

test("a replayed FAILED event replaces its row, keeping its duplicate count", () => {
  const event = referralEvent({ id: "evt_failed", chat: "ch_a", ref: "bio", receivedAt: NOW - HOUR });
  const failed = Object.assign(new WebhookEvent(), { id: "evt_failed", duplicates: 4 });
  const result = plan([delivery(event, failed)], loaded({ events: new Map([["evt_failed", WebhookEventStatus.FAILED]]) }));
  expect(result.inbox.replayed).toEqual(["evt_failed"]);
  expect(result.inbox.rows.map((row) => [row.id, row.status, row.duplicates])).toEqual([["evt_failed", WebhookEventStatus.PROCESSED, 4]]);
  expect(result.inbox.outcomes).toEqual([{ status: WebhookEventStatus.PROCESSED, duplicate: false }]);
});

test("a chat whose platform changes is reported to the analytics copy", () => {
  const chats = new Map([["ch_a", storedChat("ch_a", "bio", NOW - 2 * HOUR, "instagram")]]);
  const result = plan([delivery(referralEvent({ chat: { id: "ch_a", platform: "facebook" }, ref: "qr", receivedAt: NOW - HOUR }))], loaded({ chats }));
  expect(result.analytics.ofChats).toEqual(["ch_a"]);
  expect(result.chats.rows[0].platform).toBe("facebook");
  expect(chats.get("ch_a")?.platform).toBe("instagram");
});

test("an earlier referral than the chat's first displaces the unread first one", () => {
  const chats = new Map([["ch_a", storedChat("ch_a", "bio", NOW - HOUR)]]);
  const result = plan([delivery(referralEvent({ chat: "ch_a", ref: "ad", receivedAt: NOW - 2 * HOUR }))], loaded({ chats }));
  expect(result.referrals.displacedFirsts).toEqual([{ chatId: "ch_a", ref: "bio", receivedAt: new Date(NOW - HOUR) }]);
  expect(result.referrals.rows).toMatchObject([{ ref: "ad", isFirstTouch: true }]);
});

test("an inbound message replies to the stored referral, reports the chat's greetings, and greets on first message", () => {
  const chats = new Map([["ch_a", storedChat("ch_a", "c=spring", NOW - HOUR)]]);
  const history = { referrals: new Map([["ch_a", [storedReferral("ch_a", "c=spring", NOW - HOUR)]]]), replies: new Map(), chats };
  const result = plan([delivery(messageEvent({ chatId: "ch_a", postedAt: NOW - 30 * 60_000 }))], loaded({ chats, history, rules: [rule(GreetingTrigger.ON_FIRST_MESSAGE)] }));
  expect(result.referrals.rows).toMatchObject([{ id: 41, firstReplyAt: new Date(NOW - 30 * 60_000), lastTouchReplyAt: new Date(NOW - 30 * 60_000) }]);
  expect(result.analytics.greetedInChats).toEqual(["ch_a"]);
  expect(result.greetings.queue).toEqual([
    {
      chatId: "ch_a",
      ref: "c=spring",
      receivedAt: new Date(NOW - HOUR),
      body: "Hi , welcome from spring",
      status: GreetingStatus.QUEUED,
      error: null,
      nextAttemptAt: new Date(NOW),
      createdAt: new Date(NOW),
    },
  ]);
});

test("a message into a chat whose history was not loaded is refused rather than planned on a guess", () => {
  const chats = new Map([["ch_a", storedChat("ch_a", "bio", NOW - HOUR)]]);
  expect(() => plan([delivery(messageEvent({ chatId: "ch_a", postedAt: NOW }))], loaded({ chats }))).toThrow("the history of chat ch_a was not read");
});

test("an outbound message's greetings may settle; its chat's greetings are reported", () => {
  const result = plan([delivery(messageEvent({ type: "message.sent", messageId: "msg_out", chatId: "ch_a", postedAt: NOW }))]);
  expect(result.greetings.settle).toEqual(["msg_out"]);
  expect(result.analytics).toEqual({ ofChats: [], greetedInChats: ["ch_a"], ofGreetingMessages: ["msg_out"] });
  expect(result.messages).toMatchObject([{ id: "msg_out", direction: "outbound" }]);
});

test("a rule greeting outside the messaging window is recorded SKIPPED with the reason", () => {
  const old = NOW - 48 * HOUR;
  const rules = [rule(GreetingTrigger.ON_REFERRAL, "Hello"), rule(GreetingTrigger.ON_FIRST_MESSAGE, "Again")];
  const result = plan([delivery(referralEvent({ chat: "ch_a", ref: "bio", receivedAt: old }))], loaded({ rules }));
  expect(result.greetings.queue).toEqual([
    expect.objectContaining({ body: "Hello", status: GreetingStatus.SKIPPED, nextAttemptAt: null, error: `rule 'on_referral': the messaging window closed at ${new Date(old + 24 * HOUR).toISOString()}` }),
  ]);
});

test("only the chat's latest referral is greeted", () => {
  const result = plan(
    [delivery(referralEvent({ chat: "ch_a", ref: "older", receivedAt: NOW - 2 * HOUR })), delivery(referralEvent({ chat: "ch_a", ref: "newer", receivedAt: NOW - HOUR }))],
    loaded({ rules: [rule(GreetingTrigger.ON_REFERRAL, "Hi")] }),
  );
  expect(result.referrals.rows.map((r) => r.ref).sort()).toEqual(["newer", "older"]);
  expect(result.greetings.queue.map((g) => g.ref)).toEqual(["newer"]);
});

test("a referral that both arrives and gets its first reply in one batch is greeted once, by its first trigger", () => {
  const rules = [rule(GreetingTrigger.ON_FIRST_MESSAGE, "Again"), rule(GreetingTrigger.ON_REFERRAL, "Hello")];
  const history = { referrals: new Map([["ch_a", []]]), replies: new Map(), chats: new Map() };
  const result = plan(
    [delivery(referralEvent({ chat: "ch_a", ref: "bio", receivedAt: NOW - HOUR })), delivery(messageEvent({ chatId: "ch_a", postedAt: NOW - 30 * 60_000 }))],
    loaded({ rules, history }),
  );
  expect(result.referrals.rows).toMatchObject([{ ref: "bio", firstReplyAt: new Date(NOW - 30 * 60_000) }]);
  expect(result.greetings.queue).toEqual([expect.objectContaining({ ref: "bio", body: "Hello", status: GreetingStatus.QUEUED })]);
});
