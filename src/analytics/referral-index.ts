import { DataSource, EntityManager } from "typeorm";
import { parameterMarker } from "../db/bulk-insert";
import { isPostgres } from "../db/data-source";
import { revisionWatermark } from "../db/revision";
import { GreetingStatus } from "../greetings/greeting.entity";
import type { ReferralFilter } from "../referrals/referral-filter";
import { Attribution, attribute, CampaignCounts, CampaignMetrics, campaignMetrics, GREETING_REPLY_WINDOW_MS } from "./attribution";
import { bucketIndex } from "./buckets";

export type IndexedField = "ref" | "campaign" | "channel" | "variant" | "source" | "platform" | "type";
const FIELDS: readonly IndexedField[] = ["ref", "campaign", "channel", "variant", "source", "platform", "type"];

const PRESENT = 1;
const FIRST_TOUCH = 2;
const NEW_CHAT = 4;
/**
 * Rows per read while catching up (a fresh copy of a million referrals takes 200). Small enough that PostgreSQL
 * walks the revision index even without statistics on the column; for larger reads it sorted the whole table.
 */
const CHUNK = 5_000;

/**
 * Each referral's PUBLISHED greetings, and how many of them were answered: an inbound message of the chat within
 * GREETING_REPLY_WINDOW_MS from when the greeting's message was sent (Postproxy's message.sent time; if only its
 * delivery or reading was reported, that time).
 */
const GREETING_COUNTS = `
  (SELECT COUNT(*) FROM greeting g WHERE g.referral_id = r.id AND g.status = '${GreetingStatus.PUBLISHED}') AS greetings_sent,
  (SELECT COUNT(*) FROM greeting g JOIN message o ON o.id = g.postproxy_message_id
   WHERE g.referral_id = r.id AND g.status = '${GreetingStatus.PUBLISHED}' AND EXISTS (
     SELECT 1 FROM message i WHERE i.chat_id = g.chat_id AND i.direction = 'inbound'
       AND i.posted_at >= COALESCE(o.sent_at, o.delivered_at, o.read_at)
       AND i.posted_at < COALESCE(o.sent_at, o.delivered_at, o.read_at) + ${GREETING_REPLY_WINDOW_MS})) AS greeting_replies`;

/** Distinct strings by number, 0 standing for null, so each referral keeps numbers rather than strings. */
class Dictionary {
  readonly values: (string | null)[] = [null];
  private readonly codes = new Map<string, number>();

  code(value: string | null): number {
    if (value === null) return 0;
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.push(value) - 1;
      this.codes.set(value, code);
    }
    return code;
  }

  find(value: string): number | undefined {
    return this.codes.get(value);
  }
}

interface StoredRow {
  id: number | string;
  revision: number | string;
  chat_id: string;
  platform: string | null;
  ref: string;
  campaign: string | null;
  channel: string | null;
  variant: string | null;
  source: string | null;
  type: string | null;
  received_at: number | string;
  first_reply_at: number | string | null;
  last_touch_reply_at: number | string | null;
  is_first_touch: boolean | number;
  is_new_chat: boolean | number;
  greetings_sent: number | string;
  greeting_replies: number | string;
}

/** Epoch milliseconds, from inclusive, to exclusive. */
export interface Period {
  from: number;
  to: number;
}

/** Which referrals count: those in the period (null for all time) that match the filter and that the model counts. */
export interface Selection {
  period: Period | null;
  filter: ReferralFilter;
  attribution: Attribution;
  windowMs: number;
}

/**
 * The counted referrals of a selection (by id), each with its chat, whether it is a new chat, and its seconds to first
 * message (NaN when it did not convert): copied out in id order, so the passes over them read memory in sequence.
 */
export interface Selected {
  ids: Int32Array;
  chats: Int32Array;
  newChat: Uint8Array;
  seconds: Float64Array;
}

export interface Tally {
  referrals: Int32Array;
  conversions: Int32Array;
  newChats: Int32Array;
  greetingsSent: Int32Array;
  greetingReplies: Int32Array;
}

/** Groups of a selection: each selected referral's group (-1 for none), and how many groups there are. */
export interface Grouping {
  groupOf: Int32Array;
  count: number;
}

/**
 * The analytics columns of every referral, in memory as typed arrays indexed by referral id (about 70 bytes a
 * referral), so that exact unique chats and percentiles over hundreds of thousands of referrals are one scan.
 * current() catches up on every write stamped since the last catch-up (src/db/revision.ts), whichever process
 * made it, so answers are as fresh as a query on the database.
 */
export class ReferralIndex {
  private capacity = 0;
  private end = 0;
  private flags = new Uint8Array(0);
  private receivedAt = new Float64Array(0);
  private firstReplyAt = new Float64Array(0);
  private lastTouchReplyAt = new Float64Array(0);
  private chat = new Int32Array(0);
  private greetingsSent = new Int32Array(0);
  private greetingReplies = new Int32Array(0);
  private codes = Object.fromEntries(FIELDS.map((field) => [field, new Int32Array(0)])) as Record<IndexedField, Int32Array>;
  private readonly dictionaries = Object.fromEntries(FIELDS.map((field) => [field, new Dictionary()])) as Record<IndexedField, Dictionary>;
  private readonly chats = new Dictionary();
  private watermark = 0;
  private caughtUpAt: number | null = null;
  private pulling: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly db: DataSource,
    /** Stamps when each catch-up began (the analytics lag metric). */
    private readonly clock: () => Date,
  ) {}

  /** Resolves once every write committed before the call is in the copy. */
  current(): Promise<void> {
    if (!this.pulling) {
      this.pulling = this.pull().finally(() => {
        this.pulling = null;
      });
      return this.pulling;
    }
    // A catch-up already running may have read before the caller's write committed: one more follows it.
    this.queued ??= this.pulling
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.current();
      });
    return this.queued;
  }

  /** Waits for a catch-up in progress, so the database can close. */
  async settled(): Promise<void> {
    await Promise.allSettled([this.pulling, this.queued]);
  }

  /** Writes stamped at or after `watermark` may be missing from the copy; `at` is when that catch-up began (epoch ms). */
  catchUpPoint(): { watermark: number; at: number | null } {
    return { watermark: this.watermark, at: this.caughtUpAt };
  }

  private async pull(): Promise<void> {
    const startedAt = this.clock().getTime();
    const watermark = await revisionWatermark(this.db);
    for (let after = [this.watermark, -1]; ; ) {
      const rows = await this.readChanges(after[0], after[1]);
      for (const row of rows) this.put(row);
      if (rows.length < CHUNK) break;
      const last = rows[rows.length - 1];
      after = [Number(last.revision), Number(last.id)];
    }
    this.watermark = watermark;
    this.caughtUpAt = startedAt;
  }

  /** The next rows stamped at or after `revision`, in (revision, id) order after `id`. */
  private readChanges(revision: number, id: number): Promise<StoredRow[]> {
    const marker = parameterMarker(this.db);
    const read = (runner: DataSource | EntityManager): Promise<StoredRow[]> =>
      runner.query(
        `SELECT r.id, r.revision, r.chat_id, c.platform, r.ref, r.campaign, r.channel, r.variant, r.source, r.type, r.received_at,
           r.first_reply_at, r.last_touch_reply_at, r.is_first_touch, r.is_new_chat, ${GREETING_COUNTS}
         FROM referral r LEFT JOIN chat c ON c.id = r.chat_id
         WHERE r.revision >= ${marker(1)} AND (r.revision, r.id) > (${marker(2)}, ${marker(3)}) ORDER BY r.revision, r.id LIMIT ${CHUNK}`,
        [revision, revision, id],
      );
    if (!isPostgres(this.db)) return read(this.db);
    // Planning for thousands of rows, PostgreSQL started parallel workers for every catch-up, even an empty one
    // (about 10 ms each time), and with the greeting counts it compiled the query (JIT, about 20 ms each time).
    return this.db.transaction(async (manager) => {
      await manager.query("SET LOCAL max_parallel_workers_per_gather = 0");
      await manager.query("SET LOCAL jit = off");
      return read(manager);
    });
  }

  private put(row: StoredRow): void {
    const id = Number(row.id);
    this.reserve(id);
    this.flags[id] = PRESENT | (row.is_first_touch ? FIRST_TOUCH : 0) | (row.is_new_chat ? NEW_CHAT : 0);
    this.receivedAt[id] = Number(row.received_at);
    this.firstReplyAt[id] = row.first_reply_at === null ? NaN : Number(row.first_reply_at);
    this.lastTouchReplyAt[id] = row.last_touch_reply_at === null ? NaN : Number(row.last_touch_reply_at);
    this.chat[id] = this.chats.code(row.chat_id);
    this.greetingsSent[id] = Number(row.greetings_sent);
    this.greetingReplies[id] = Number(row.greeting_replies);
    for (const field of FIELDS) this.codes[field][id] = this.dictionaries[field].code(row[field]);
    this.end = Math.max(this.end, id + 1);
  }

  private reserve(id: number): void {
    if (id < this.capacity) return;
    const capacity = Math.max(1024, this.capacity * 2, id + 1);
    const grow = <T extends Uint8Array | Int32Array | Float64Array>(array: T): T => {
      const larger = new (array.constructor as new (n: number) => T)(capacity);
      larger.set(array);
      return larger;
    };
    this.flags = grow(this.flags);
    this.receivedAt = grow(this.receivedAt);
    this.firstReplyAt = grow(this.firstReplyAt);
    this.lastTouchReplyAt = grow(this.lastTouchReplyAt);
    this.chat = grow(this.chat);
    this.greetingsSent = grow(this.greetingsSent);
    this.greetingReplies = grow(this.greetingReplies);
    this.codes = Object.fromEntries(FIELDS.map((field) => [field, grow(this.codes[field])])) as Record<IndexedField, Int32Array>;
    this.capacity = capacity;
  }

  /** The referrals a selection counts, with what its model says of each (attribute in attribution.ts). */
  select({ period, filter, attribution, windowMs }: Selection): Selected {
    const conditions = this.conditions(filter);
    if (conditions === null) return { ids: new Int32Array(0), chats: new Int32Array(0), newChat: new Uint8Array(0), seconds: new Float64Array(0) };
    // First the period alone, the one test every referral needs, in a tight loop.
    const [from, to] = period ? [period.from, period.to] : [-Infinity, Infinity];
    const inPeriod = new Int32Array(this.end);
    let count = 0;
    for (let id = 0; id < this.end; id++) {
      const at = this.receivedAt[id];
      if (at >= from && at < to && this.flags[id] & PRESENT) inPeriod[count++] = id;
    }
    const ids = new Int32Array(count);
    const chats = new Int32Array(count);
    const newChat = new Uint8Array(count);
    const seconds = new Float64Array(count);
    const time = (value: number) => (Number.isNaN(value) ? null : value);
    let selected = 0;
    candidates: for (let i = 0; i < count; i++) {
      const id = inPeriod[i];
      for (const { column, accepts } of conditions) if (accepts[column[id]] !== 1) continue candidates;
      const flags = this.flags[id];
      const touch = attribute(
        {
          receivedAt: this.receivedAt[id],
          firstReplyAt: time(this.firstReplyAt[id]),
          lastTouchReplyAt: time(this.lastTouchReplyAt[id]),
          isFirstTouch: (flags & FIRST_TOUCH) !== 0,
          isNewChat: (flags & NEW_CHAT) !== 0,
        },
        attribution,
        windowMs,
      );
      if (!touch.counted) continue;
      ids[selected] = id;
      chats[selected] = this.chat[id];
      newChat[selected] = flags & NEW_CHAT ? 1 : 0;
      seconds[selected++] = touch.secondsToFirstMessage ?? NaN;
    }
    return { ids: ids.subarray(0, selected), chats: chats.subarray(0, selected), newChat: newChat.subarray(0, selected), seconds: seconds.subarray(0, selected) };
  }

  /** For each filtered column, the codes it accepts; null when some filter matches no stored value. */
  private conditions(filter: ReferralFilter): { column: Int32Array; accepts: Uint8Array }[] | null {
    const conditions: { column: Int32Array; accepts: Uint8Array }[] = [];
    const add = (column: Int32Array, dictionary: Dictionary, accept: (value: string) => boolean) => {
      const accepts = new Uint8Array(dictionary.values.length);
      dictionary.values.forEach((value, code) => {
        if (value !== null && accept(value)) accepts[code] = 1;
      });
      conditions.push({ column, accepts });
      return accepts.includes(1);
    };
    const matchable = [
      ...(["ref", "campaign", "channel", "variant", "source", "platform"] as const).map(
        (field) => filter[field] === undefined || add(this.codes[field], this.dictionaries[field], (value) => value === filter[field]),
      ),
      filter.refPrefix === undefined || add(this.codes.ref, this.dictionaries.ref, (value) => value.startsWith(filter.refPrefix as string)),
      filter.chatId === undefined || add(this.chat, this.chats, (value) => value === filter.chatId),
    ];
    return matchable.every(Boolean) ? conditions : null;
  }

  /** The earliest and just after the latest time among the selected referrals; null when there are none. */
  span({ ids }: Selected): Period | null {
    if (ids.length === 0) return null;
    let [first, last] = [Infinity, -Infinity];
    for (const id of ids) [first, last] = [Math.min(first, this.receivedAt[id]), Math.max(last, this.receivedAt[id])];
    return { from: first, to: last + 1 };
  }

  /** Groups the selected referrals by the values of `fields`: group numbers in order of first appearance. */
  group({ ids }: Selected, fields: readonly IndexedField[]): Grouping & { keys: (string | null)[][] } {
    // Each referral's combination of codes as one number (mixed radix), renumbered densely before it could overflow.
    const combined = new Float64Array(ids.length);
    let radix = 1;
    for (const field of fields) {
      const column = this.codes[field];
      const size = this.dictionaries[field].values.length;
      if (radix * size > Number.MAX_SAFE_INTEGER) radix = renumber(combined, radix).count;
      for (let i = 0; i < ids.length; i++) combined[i] = combined[i] * size + column[ids[i]];
      radix *= size;
    }
    const { groupOf, count, firsts } = renumber(combined, radix);
    const keys = firsts.map((i) => fields.map((field) => this.dictionaries[field].values[this.codes[field][ids[i]]]));
    return { groupOf, count, keys };
  }

  /** Which of the ascending bucket `starts` each selected referral falls in. */
  buckets({ ids }: Selected, starts: number[]): Int32Array {
    const bucketOf = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) bucketOf[i] = bucketIndex(starts, this.receivedAt[ids[i]]);
    return bucketOf;
  }

  /** Each group's counts: what ordering by a count needs, at a fraction of the cost of metrics(). */
  tally({ ids, newChat, seconds }: Selected, { groupOf, count }: Grouping): Tally {
    const referrals = new Int32Array(count);
    const conversions = new Int32Array(count);
    const newChats = new Int32Array(count);
    const greetingsSent = new Int32Array(count);
    const greetingReplies = new Int32Array(count);
    for (let i = 0; i < groupOf.length; i++) {
      const g = groupOf[i];
      if (g < 0) continue;
      referrals[g]++;
      newChats[g] += newChat[i];
      if (!Number.isNaN(seconds[i])) conversions[g]++;
      greetingsSent[g] += this.greetingsSent[ids[i]];
      greetingReplies[g] += this.greetingReplies[ids[i]];
    }
    return { referrals, conversions, newChats, greetingsSent, greetingReplies };
  }

  /** The metrics of each group (campaignMetrics in attribution.ts): counts, exact unique chats and percentiles. */
  metrics(selected: Selected, grouping: Grouping): CampaignMetrics[] {
    const { ids, chats: chatOf, seconds } = selected;
    const { groupOf, count } = grouping;
    const tally = this.tally(selected, grouping);
    const { referrals, conversions } = tally;
    // Each group's chats and seconds, side by side in one array each (a counting sort by group).
    const chatStart = starts(referrals);
    const secondsStart = starts(conversions);
    const chats = new Int32Array(chatStart[count]);
    const times = new Float64Array(secondsStart[count]);
    const [chatNext, secondsNext] = [chatStart.slice(), secondsStart.slice()];
    for (let i = 0; i < ids.length; i++) {
      const g = groupOf[i];
      if (g < 0) continue;
      chats[chatNext[g]++] = chatOf[i];
      if (!Number.isNaN(seconds[i])) times[secondsNext[g]++] = seconds[i];
    }
    // Unique chats by marking each chat with the group last seen to hold it: no sorting needed.
    const seenIn = new Int32Array(this.chats.values.length).fill(-1);
    return Array.from({ length: count }, (_, g) => {
      let uniqueChats = 0;
      for (let i = chatStart[g]; i < chatStart[g + 1]; i++) {
        if (seenIn[chats[i]] === g) continue;
        seenIn[chats[i]] = g;
        uniqueChats++;
      }
      const groupSeconds = times.subarray(secondsStart[g], secondsStart[g + 1]);
      return campaignMetrics({ ...countsOf(tally, g), uniqueChats }, (position) => nthSmallest(groupSeconds, position));
    });
  }
}

/** Group g's counts in a tally. */
export function countsOf(tally: Tally, g: number): Omit<CampaignCounts, "uniqueChats"> {
  return {
    referrals: tally.referrals[g],
    newChats: tally.newChats[g],
    conversions: tally.conversions[g],
    greetingsSent: tally.greetingsSent[g],
    greetingReplies: tally.greetingReplies[g],
  };
}

/**
 * The n-th smallest (from 0) of `values`, which it reorders (quickselect): a percentile needs two values at most,
 * which this finds in linear time where sorting would take n log n.
 */
function nthSmallest(values: Float64Array, n: number): number {
  let [left, right] = [0, values.length - 1];
  while (left < right) {
    const pivot = values[(left + right) >> 1];
    let [i, j] = [left, right];
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swapped = values[i];
        values[i++] = values[j];
        values[j--] = swapped;
      }
    }
    if (n <= j) right = j;
    else if (n >= i) left = i;
    else break;
  }
  return values[n];
}

/** Where each group's entries begin in an array holding every group's entries in turn; the last is the total. */
function starts(sizes: Int32Array): Int32Array {
  const result = new Int32Array(sizes.length + 1);
  sizes.forEach((size, g) => (result[g + 1] = result[g] + size));
  return result;
}

/** Renumbers values below `radix` densely in order of first appearance, in place too; `firsts` holds each number's first position. */
function renumber(values: Float64Array, radix: number): Grouping & { firsts: number[] } {
  // A table when the values are few enough to index one, which is the common case; a map otherwise.
  const table = radix <= 1 << 24 ? new Int32Array(radix).fill(-1) : null;
  const numbers = new Map<number, number>();
  const groupOf = new Int32Array(values.length);
  const firsts: number[] = [];
  for (let i = 0; i < values.length; i++) {
    let number = table ? table[values[i]] : (numbers.get(values[i]) ?? -1);
    if (number < 0) {
      number = firsts.push(i) - 1;
      if (table) table[values[i]] = number;
      else numbers.set(values[i], number);
    }
    groupOf[i] = number;
    values[i] = number;
  }
  return { groupOf, count: firsts.length, firsts };
}
