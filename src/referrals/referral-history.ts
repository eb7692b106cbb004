import { EntityManager } from "typeorm";
import { referralTimelines } from "../analytics/attribution";
import { Chat } from "../chats/chat.entity";
import { bulkInsert, parameterMarker, typedValues } from "../db/bulk-insert";
import { epochMillis } from "../db/columns";
import { ChatFacts, ReferralFacts } from "../webhooks/envelope";
import { fillReferral, REFERRAL_DETAILS, referralKey } from "./referral-order";
import { Referral } from "./referral.entity";
import { RefGrammar, storedParts } from "./ref-grammar";

/** What a batch needs to know of the chats it touches to keep their referrals' timelines current. */
export interface StoredHistory {
  /** The stored referrals of each chat (readHistory). */
  referrals: Map<string, Referral[]>;
  /** For incoming referrals (by key): the first stored inbound message at or after it (storedReplies). */
  replies: Map<string, number | null>;
}

// Every column but the parsed parts, which only a new referral's row needs: hydrated by hand, as TypeORM's
// entity hydration costs more than the query on this path.
async function readReferrals(manager: EntityManager, chatIds: string[]): Promise<Referral[]> {
  const marker = parameterMarker(manager.connection);
  const rows: Record<string, string | number | boolean | null>[] = await manager.query(
    `SELECT id, event_id, chat_id, ref, source, type, received_at, ad_id, ads_context, first_reply_at, last_touch_reply_at, is_first_touch, is_new_chat
     FROM referral WHERE chat_id IN (${chatIds.map((_, i) => marker(i + 1)).join(", ")})`,
    chatIds,
  );
  const at = epochMillis.from as (value: unknown) => Date | null;
  return rows.map((row) =>
    Object.assign(new Referral(), {
      id: Number(row.id),
      eventId: row.event_id,
      chatId: row.chat_id,
      ref: row.ref,
      source: row.source,
      type: row.type,
      receivedAt: at(row.received_at),
      adId: row.ad_id,
      adsContext: row.ads_context,
      firstReplyAt: at(row.first_reply_at),
      lastTouchReplyAt: at(row.last_touch_reply_at),
      isFirstTouch: Boolean(row.is_first_touch),
      isNewChat: Boolean(row.is_new_chat),
    }),
  );
}

/** The stored referrals of these chats, by chat. */
export async function readHistory(manager: EntityManager, chatIds: string[]): Promise<Map<string, Referral[]>> {
  const referrals = new Map<string, Referral[]>();
  const ids = [...new Set(chatIds)];
  if (ids.length === 0) return referrals;
  for (const row of await readReferrals(manager, ids)) referrals.set(row.chatId, [...(referrals.get(row.chatId) ?? []), row]);
  return referrals;
}

/**
 * For each incoming referral, the first stored inbound message at or after it. Only a referral delivered after a
 * later message of its chat can have one, so the query runs only for those (`chats` as stored before the batch).
 */
export async function storedReplies(manager: EntityManager, incoming: ReferralFacts[], chats: Map<string, Chat>): Promise<Map<string, number | null>> {
  const late = [...new Map(incoming.map((fact) => [referralKey(fact), fact])).values()].filter(
    (fact) => (chats.get(fact.chatId)?.lastInboundAt?.getTime() ?? -Infinity) >= fact.receivedAt.getTime(),
  );
  if (late.length === 0) return new Map();
  const values = typedValues(manager.connection, ["text", "bigint"], late.map((fact) => [fact.chatId, fact.receivedAt.getTime()]));
  const replies: { reply: string | number | null }[] = await manager.query(
    `SELECT (SELECT MIN(m.posted_at) FROM message m WHERE m.chat_id = v.column1 AND m.direction = 'inbound' AND m.posted_at >= v.column2) AS reply
     FROM (${values.sql}) AS v`,
    values.parameters,
  );
  return new Map(late.map((fact, i) => [referralKey(fact), replies[i].reply === null ? null : Number(replies[i].reply)]));
}

const time = epochMillis.from as (at: number | null) => Date | null;

/**
 * The referral rows a batch writes: its new referrals (parsed with `grammar`), the details a second report of a
 * stored referral adds, and every stored referral of the touched chats whose timeline changed.
 * `chats` holds the touched chats as the batch leaves them.
 */
export function referralWrites(history: StoredHistory, facts: ChatFacts[], chats: Map<string, Chat>, grammar: RefGrammar): Referral[] {
  const incoming = new Map<string, Map<string, ReferralFacts>>();
  const inbound = new Map<string, number[]>();
  for (const fact of facts) {
    if (fact.referral) {
      const byKey = incoming.get(fact.id) ?? new Map<string, ReferralFacts>();
      const key = referralKey(fact.referral);
      byKey.set(key, fillReferral(byKey.get(key), fact.referral));
      incoming.set(fact.id, byKey);
    }
    if (fact.inboundAt) inbound.set(fact.id, [...(inbound.get(fact.id) ?? []), fact.inboundAt.getTime()]);
  }
  const writes: Referral[] = [];
  for (const chatId of new Set([...incoming.keys(), ...inbound.keys()])) {
    const stored = new Map((history.referrals.get(chatId) ?? []).map((row) => [referralKey(row), row]));
    const changed = new Set<Referral>();
    const rows = new Map(stored);
    for (const [key, fact] of incoming.get(chatId) ?? []) {
      const row = stored.get(key);
      if (row) {
        const filled = fillReferral(row, fact);
        if (REFERRAL_DETAILS.some((detail) => filled[detail] !== row[detail])) {
          Object.assign(row, filled);
          changed.add(row);
        }
      } else {
        const created = Object.assign(new Referral(), fact, storedParts(grammar(fact.ref)), { firstReplyAt: time(history.replies.get(key) ?? null) });
        rows.set(key, created);
        changed.add(created);
      }
    }
    const list = [...rows.values()];
    const timelines = referralTimelines(
      list.map((row) => ({ ref: row.ref, receivedAt: row.receivedAt, replyAt: row.firstReplyAt?.getTime() ?? null })),
      inbound.get(chatId) ?? [],
      chats.get(chatId)?.firstInboundAt?.getTime() ?? Infinity,
    );
    list.forEach((row, i) => {
      const timeline = timelines[i];
      const firstReplyAt = time(timeline.firstReplyAt);
      const lastTouchReplyAt = time(timeline.lastTouchReplyAt);
      const same =
        row.firstReplyAt?.getTime() === firstReplyAt?.getTime() &&
        row.lastTouchReplyAt?.getTime() === lastTouchReplyAt?.getTime() &&
        row.isFirstTouch === timeline.isFirstTouch &&
        row.isNewChat === timeline.isNewChat;
      if (!same) changed.add(Object.assign(row, { firstReplyAt, lastTouchReplyAt, isFirstTouch: timeline.isFirstTouch, isNewChat: timeline.isNewChat }));
    });
    writes.push(...changed);
  }
  return writes;
}

/**
 * Writes new and changed referrals in one statement. The conflict clause is a safety net: the batch read the
 * chat's referrals under its lock, so a row with the same key is one it saw, whose details it already merged.
 */
export async function upsertReferrals(manager: EntityManager, rows: Referral[]): Promise<void> {
  if (rows.length === 0) return;
  const fill = ["source", "type", "ad_id", "ads_context"].map((column) => `${column} = COALESCE(referral.${column}, excluded.${column})`);
  const timeline = ["first_reply_at", "last_touch_reply_at", "is_first_touch", "is_new_chat"].map((column) => `${column} = excluded.${column}`);
  await bulkInsert(manager, Referral, rows, `ON CONFLICT (chat_id, ref, received_at) DO UPDATE SET ${[...fill, ...timeline].join(", ")}`);
}
