import { DataSource, EntityManager } from "typeorm";
import { Chat } from "../chats/chat.entity";
import { insertStatements, typedValues } from "../db/bulk-insert";
import { SqlStatement, statement } from "../db/sql-script";
import { epochMillis } from "../db/columns";
import { aggregatedRows, Bindings, jsonRows, Read, readTogether } from "../db/rows";
import { ChatFacts, IncomingReferral } from "../webhooks/envelope";
import { fillReferral, REFERRAL_DETAILS, referralKey, ReferralPoint } from "./referral-order";
import { Referral } from "./referral.entity";
import { RefGrammar, storedParts } from "./ref-grammar";
import { HistoryReferral, ReferralTimeline, referralTimelines } from "./referral-timeline";

// Referrals' part of ingesting a batch of webhooks: every referral is kept, each with its timeline (first reply,
// last touch, first touch, new chat), which later referrals and messages of its chat can change.

/** What a batch needs to know of the chats it touches to keep their referrals' timelines current. */
export interface StoredHistory {
  /** The referrals the batch can change, of the chats that need them (readHistory, isLate). */
  referrals: Map<string, Referral[]>;
  /** For incoming referrals (by key): the first stored inbound message at or after it (storedReplies). */
  replies: Map<string, number | null>;
  /** The touched chats as stored before the batch: each names its first referral, which may not have been read. */
  chats: Map<string, Chat>;
}

export type ReferralAt = ReferralPoint & { chatId: string };

export interface ReferralChanges {
  /** New referrals, and stored ones whose details or timeline changed: written whole (upsertReferrals). */
  rows: Referral[];
  /** Stored first referrals, not read, that one of the batch's referrals now precedes. */
  displacedFirsts: ReferralAt[];
}

// Every column but the parsed parts, which only a new referral's row needs: hydrated by hand, as TypeORM's
// entity hydration costs more than the query on this path.
const HISTORY_COLUMNS = ["id", "event_id", "chat_id", "ref", "source", "type", "received_at", "ad_id", "ads_context", "first_reply_at", "last_touch_reply_at", "is_first_touch", "is_new_chat"] as const;

function historyReferral(values: unknown[]): Referral {
  const row = Object.fromEntries(HISTORY_COLUMNS.map((column, i) => [column, values[i]])) as Record<(typeof HISTORY_COLUMNS)[number], string | number | null>;
  return Object.assign(new Referral(), {
    id: Number(row.id),
    eventId: row.event_id,
    chatId: row.chat_id,
    ref: row.ref,
    source: row.source,
    type: row.type,
    receivedAt: time(row.received_at as number),
    adId: row.ad_id,
    adsContext: row.ads_context,
    firstReplyAt: time(row.first_reply_at as number | null),
    lastTouchReplyAt: time(row.last_touch_reply_at as number | null),
    isFirstTouch: Boolean(row.is_first_touch),
    isNewChat: Boolean(row.is_new_chat),
  });
}

/**
 * The stored referrals of each chat whose timelines a batch can change, by chat: those without a reply before
 * `since`, the time of the batch's earliest fact for that chat. A referral's first reply never comes before an
 * earlier referral's, so these are a run of the chat's latest referrals; the ones before it keep their replies,
 * and, as the batch's facts all come after their replies, their timelines, except the chat's first referral
 * (see StoredHistory.chats).
 */
function storedHistory(bindings: Bindings, since: Map<string, number>): Read<Map<string, Referral[]>> {
  const from = `FROM referral r JOIN (${bindings.typedValues(["text", "bigint"], [...since])}) AS v ON r.chat_id = v.column1
     WHERE r.first_reply_at IS NULL OR r.first_reply_at >= v.column2`;
  return {
    sql: aggregatedRows(bindings.connection, HISTORY_COLUMNS.map((column) => `r.${column}`), from),
    decode: (value) => {
      const referrals = new Map<string, Referral[]>([...since.keys()].map((id) => [id, []]));
      for (const referral of jsonRows(value).map(historyReferral)) referrals.get(referral.chatId)?.push(referral);
      return referrals;
    },
  };
}

/** For each of these chats, the time of the batch's earliest referral or inbound message in it: readHistory's `since`. */
function earliestFacts(facts: ChatFacts[], chatIds: Set<string>): Map<string, number> {
  const since = new Map<string, number>();
  for (const fact of facts) {
    if (!chatIds.has(fact.id)) continue;
    for (const at of [fact.inboundAt, fact.referral?.receivedAt]) if (at) since.set(fact.id, Math.min(since.get(fact.id) ?? Infinity, at.getTime()));
  }
  return since;
}

/**
 * Whether a referral is late: delivered at or before its chat's last stored message (`chat` as stored before the
 * batch). Only a late referral can have a stored reply (storedReplies). A batch must read a chat's stored referrals
 * to keep their timelines when it brings the chat a late referral or an inbound message; otherwise no stored
 * message can be a reply to the batch's referrals, no stored reply moves, and of the stored referrals only the
 * first can change (it stops being first), which the chat row names.
 */
export const isLate = (chat: Chat | undefined, receivedAt: Date) => (chat?.lastInboundAt?.getTime() ?? -Infinity) >= receivedAt.getTime();

/**
 * What the batch's facts need of the stored referrals (`chats`: the touched chats as stored): the history of each chat
 * that gets an inbound message or a late referral, and the stored replies of late referrals.
 */
export async function loadHistory(manager: EntityManager, facts: ChatFacts[], chats: Map<string, Chat>): Promise<StoredHistory> {
  const late = facts.flatMap((fact) => (fact.referral && isLate(chats.get(fact.id), fact.referral.receivedAt) ? [fact.referral] : []));
  const needed = new Set([...facts.filter((fact) => fact.inboundAt).map((fact) => fact.id), ...late.map((referral) => referral.chatId)]);
  // Most batches need neither read: then no statement goes to the database.
  if (needed.size === 0) return { referrals: new Map(), replies: new Map(), chats };
  const [referrals, replies] = await readTogether(manager, (bindings) => [
    storedHistory(bindings, earliestFacts(facts, needed)),
    storedReplies(bindings, late),
  ] as const);
  return { referrals, replies, chats };
}

/** For each late referral (isLate), by key: the first stored inbound message at or after it. */
function storedReplies(bindings: Bindings, lateReferrals: IncomingReferral[]): Read<Map<string, number | null>> {
  const late = [...new Map(lateReferrals.map((fact) => [referralKey(fact), fact])).values()];
  if (late.length === 0) return { sql: "SELECT NULL", decode: () => new Map() };
  // Each row carries its index: an aggregate keeps no order of its own.
  const values = bindings.typedValues(["integer", "text", "bigint"], late.map((fact, i) => [i, fact.chatId, fact.receivedAt.getTime()]));
  const reply = "(SELECT MIN(m.posted_at) FROM message m WHERE m.chat_id = v.column2 AND m.direction = 'inbound' AND m.posted_at >= v.column3)";
  return {
    sql: aggregatedRows(bindings.connection, ["v.column1", reply], `FROM (${values}) AS v`),
    decode: (value) => new Map(jsonRows(value).map(([i, at]) => [referralKey(late[Number(i)]), at == null ? null : Number(at)])),
  };
}

const time = epochMillis.from as (at: number | null) => Date | null;

/** Each chat's inbound message times among the batch's facts. */
export function inboundTimes(facts: ChatFacts[]): Map<string, number[]> {
  const inbound = new Map<string, number[]>();
  for (const fact of facts) if (fact.inboundAt) inbound.set(fact.id, [...(inbound.get(fact.id) ?? []), fact.inboundAt.getTime()]);
  return inbound;
}

/**
 * What a batch writes to the referral table: its new referrals (parsed with `grammar`), the details a second report
 * of a stored referral adds, and every stored referral of the touched chats whose timeline changed. Only the stored
 * referrals the batch can change were read (see readHistory and isLate); the chat's first referral stands in
 * for the rest where order matters. `chats` holds the touched chats as the batch leaves them.
 */
export function planReferrals(history: StoredHistory, facts: ChatFacts[], chats: Map<string, Chat>, grammar: RefGrammar): ReferralChanges {
  const incoming = new Map<string, Map<string, IncomingReferral>>();
  for (const fact of facts) {
    if (!fact.referral) continue;
    const byKey = incoming.get(fact.id) ?? new Map<string, IncomingReferral>();
    const key = referralKey(fact.referral);
    byKey.set(key, fillReferral(byKey.get(key), fact.referral));
    incoming.set(fact.id, byKey);
  }
  const inbound = inboundTimes(facts);
  const changes: ReferralChanges = { rows: [], displacedFirsts: [] };
  for (const chatId of new Set([...incoming.keys(), ...inbound.keys()])) {
    const read = history.referrals.get(chatId);
    if (!read && inbound.has(chatId)) throw new Error(`the history of chat ${chatId} was not read, but the batch brings it a message`);
    const stored = new Map((read ?? []).map((row) => [referralKey(row), row]));
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
        // When the history was not read, this may be a second report of a stored referral: upsertReferrals merges it.
        const created = Object.assign(new Referral(), fact, storedParts(grammar(fact.ref)), { firstReplyAt: time(history.replies.get(key) ?? null) });
        rows.set(key, created);
        changed.add(created);
      }
    }
    const list = [...rows.values()];
    const before = history.chats.get(chatId);
    const first = before?.firstReferralAt ? { chatId, ref: before.firstReferralRef as string, receivedAt: before.firstReferralAt } : null;
    const unreadFirst = first && !rows.has(referralKey(first)) ? first : null;
    const timelines = referralTimelines(
      [...list.map(historyPoint), ...(unreadFirst ? [unreadFirst] : [])],
      inbound.get(chatId) ?? [],
      chats.get(chatId)?.firstInboundAt?.getTime() ?? Infinity,
    );
    list.forEach((row, i) => {
      if (applyTimeline(row, timelines[i])) changed.add(row);
    });
    if (unreadFirst && !timelines[list.length].isFirstTouch) changes.displacedFirsts.push(unreadFirst);
    changes.rows.push(...changed);
  }
  return changes;
}

const historyPoint = (row: Referral): HistoryReferral => ({ ref: row.ref, receivedAt: row.receivedAt, replyAt: row.firstReplyAt?.getTime() ?? null });

/** Sets the row's timeline columns; true when they changed. */
function applyTimeline(row: Referral, timeline: ReferralTimeline): boolean {
  const firstReplyAt = time(timeline.firstReplyAt);
  const lastTouchReplyAt = time(timeline.lastTouchReplyAt);
  const same =
    row.firstReplyAt?.getTime() === firstReplyAt?.getTime() &&
    row.lastTouchReplyAt?.getTime() === lastTouchReplyAt?.getTime() &&
    row.isFirstTouch === timeline.isFirstTouch &&
    row.isNewChat === timeline.isNewChat;
  Object.assign(row, { firstReplyAt, lastTouchReplyAt, isFirstTouch: timeline.isFirstTouch, isNewChat: timeline.isNewChat });
  return !same;
}

/** A first referral that is first no more is not the chat's first activity either. */
function markDisplacedFirsts(connection: DataSource, displaced: ReferralAt[], revision: number): SqlStatement[] {
  if (displaced.length === 0) return [];
  const values = typedValues(connection, ["text", "text", "bigint"], displaced.map((r) => [r.chatId, r.ref, r.receivedAt.getTime()]));
  return [
    statement(
      `UPDATE referral SET is_first_touch = false, is_new_chat = false, revision = ${revision} WHERE id IN (
       SELECT r.id FROM referral r JOIN (${values.sql}) AS v ON r.chat_id = v.column1 AND r.ref = v.column2 AND r.received_at = v.column3)`,
      values.parameters,
    ),
  ];
}

/**
 * Writes new and changed referrals in one statement. A row whose key is stored already is either one the batch
 * read and merged, or a second report into a chat whose history was not read: the conflict clause then keeps the
 * stored details, fills their gaps, and sets the timeline the batch computed.
 */
function upsertReferrals(connection: DataSource, rows: Referral[], revision: number): SqlStatement[] {
  for (const row of rows) row.revision = revision;
  const fill = ["source", "type", "ad_id", "ads_context"].map((column) => `${column} = COALESCE(referral.${column}, excluded.${column})`);
  const timeline = ["first_reply_at", "last_touch_reply_at", "is_first_touch", "is_new_chat", "revision"].map((column) => `${column} = excluded.${column}`);
  return insertStatements(connection, Referral, rows, `ON CONFLICT (chat_id, ref, received_at) DO UPDATE SET ${[...fill, ...timeline].join(", ")}`);
}

/** Writes the planned referrals, stamping each row the analytics copy must read again with the transaction's `revision`. */
export const referralStatements = (connection: DataSource, changes: ReferralChanges, revision: number): SqlStatement[] => [
  ...upsertReferrals(connection, changes.rows, revision),
  ...markDisplacedFirsts(connection, changes.displacedFirsts, revision),
];
