import type { ReferralFilter } from "../referrals/referral-filter";
import { attribute, Attribution, CampaignCounts, CampaignMetrics, campaignMetrics, countMetrics, isCountMetric } from "./attribution";
import { bucketIndex } from "./buckets";

// campaignStats's answer as pure functions over the referral columns ReferralIndex keeps in memory: plain arrays in,
// plain rows out, so every path (however many groups or buckets) is unit-tested on hand-built columns.

export type IndexedField = "ref" | "campaign" | "channel" | "variant" | "source" | "platform" | "type";
export const INDEXED_FIELDS: readonly IndexedField[] = ["ref", "campaign", "channel", "variant", "source", "platform", "type"];

/** Bits of the flags column. */
export const PRESENT = 1;
export const FIRST_TOUCH = 2;
export const NEW_CHAT = 4;

/**
 * Every referral's analytics, a typed array per column indexed by referral id below `end` (an id never stored has
 * flags 0). Strings are stored as codes: a code column holds each referral's position in its `values`, 0 for null.
 */
export interface ReferralColumns {
  end: number;
  flags: Uint8Array;
  receivedAt: Float64Array;
  /** NaN when there is none, as for lastTouchReplyAt. */
  firstReplyAt: Float64Array;
  lastTouchReplyAt: Float64Array;
  /** Codes into chatIds. */
  chat: Int32Array;
  greetingsSent: Int32Array;
  greetingReplies: Int32Array;
  codes: Readonly<Record<IndexedField, Int32Array>>;
  values: Readonly<Record<IndexedField, readonly (string | null)[]>>;
  chatIds: readonly (string | null)[];
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

export interface CampaignOrder {
  by: keyof CampaignMetrics | "key";
  descending: boolean;
}

export interface CampaignQuery {
  selection: Selection;
  /** With no fields there is one group, the totals, even when no referral counts. */
  groupBy: readonly IndexedField[];
  /** The ascending bucket starts over the period, or over the selected referrals' span for all time; null for no buckets. */
  bucketStarts: ((span: Period | null) => number[]) | null;
  /** Nulls last, then by key (nulls first) so equal metrics keep a stable order. */
  order: CampaignOrder;
  /** How many groups the answer keeps, the first in the order; with buckets each keeps every bucket. */
  first: number;
}

export type GroupKey = Partial<Record<IndexedField, string | null>>;

export interface CampaignRow {
  key: GroupKey;
  /** The bucket's start; null without buckets. */
  bucket: number | null;
  metrics: CampaignMetrics;
}

/** The selection's totals and its chosen groups' rows, in order (with buckets, each group's buckets in turn). */
export function aggregateCampaigns(columns: ReferralColumns, query: CampaignQuery): { totals: CampaignMetrics; rows: CampaignRow[] } {
  const selected = select(columns, query.selection);
  const starts = query.bucketStarts ? query.bucketStarts(query.selection.period ?? span(columns, selected)) : null;
  const everyone: Grouping = { groupOf: new Int32Array(selected.ids.length), count: 1 };
  const [totals] = metrics(columns, selected, everyone);
  const grouped = query.groupBy.length > 0;
  const { grouping, keys } = grouped ? group(columns, selected, query.groupBy) : { grouping: everyone, keys: [[]] };
  const chosen = grouped ? choose(columns, selected, grouping, keys, query) : { numbers: [0], metrics: [totals] };
  const rank = new Int32Array(grouping.count).fill(-1);
  chosen.numbers.forEach((g, i) => (rank[g] = i));
  const keyOf = (g: number): GroupKey => Object.fromEntries(query.groupBy.map((field, i) => [field, keys[g][i]]));
  if (!starts) {
    const exact = chosen.metrics ?? metrics(columns, selected, { groupOf: grouping.groupOf.map((g) => rank[g]), count: chosen.numbers.length });
    return { totals, rows: chosen.numbers.map((g, i) => ({ key: keyOf(g), bucket: null, metrics: exact[i] })) };
  }
  // Each chosen group's buckets, numbered in answer order.
  const bucketOf = buckets(columns, selected, starts);
  const groupOf = grouping.groupOf.map((g, i) => (rank[g] < 0 ? -1 : rank[g] * starts.length + bucketOf[i]));
  const bucketed = metrics(columns, selected, { groupOf, count: chosen.numbers.length * starts.length });
  return {
    totals,
    rows: chosen.numbers.flatMap((g, i) => {
      const key = keyOf(g);
      return starts.map((start, b) => ({ key, bucket: start, metrics: bucketed[i * starts.length + b] }));
    }),
  };
}

/**
 * The counted referrals of a selection (by id), each with its chat, whether it is a new chat, and its seconds to first
 * message (NaN when it did not convert): copied out in id order, so the passes over them read memory in sequence.
 */
interface Selected {
  ids: Int32Array;
  chats: Int32Array;
  newChat: Uint8Array;
  seconds: Float64Array;
}

/** Groups of a selection: each selected referral's group (-1 for none), and how many groups there are. */
interface Grouping {
  groupOf: Int32Array;
  count: number;
}

interface Tally {
  referrals: Int32Array;
  conversions: Int32Array;
  newChats: Int32Array;
  greetingsSent: Int32Array;
  greetingReplies: Int32Array;
}

/** The referrals a selection counts, with what its model says of each (attribute in attribution.ts). */
function select(columns: ReferralColumns, { period, filter, attribution, windowMs }: Selection): Selected {
  const { end, flags, receivedAt, firstReplyAt, lastTouchReplyAt, chat } = columns;
  const conditions = conditionsOf(columns, filter);
  if (conditions === null) return { ids: new Int32Array(0), chats: new Int32Array(0), newChat: new Uint8Array(0), seconds: new Float64Array(0) };
  // First the period alone, the one test every referral needs, in a tight loop.
  const [from, to] = period ? [period.from, period.to] : [-Infinity, Infinity];
  const inPeriod = new Int32Array(end);
  let count = 0;
  for (let id = 0; id < end; id++) {
    const at = receivedAt[id];
    if (at >= from && at < to && flags[id] & PRESENT) inPeriod[count++] = id;
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
    const referralFlags = flags[id];
    const touch = attribute(
      {
        receivedAt: receivedAt[id],
        firstReplyAt: time(firstReplyAt[id]),
        lastTouchReplyAt: time(lastTouchReplyAt[id]),
        isFirstTouch: (referralFlags & FIRST_TOUCH) !== 0,
        isNewChat: (referralFlags & NEW_CHAT) !== 0,
      },
      attribution,
      windowMs,
    );
    if (!touch.counted) continue;
    ids[selected] = id;
    chats[selected] = chat[id];
    newChat[selected] = referralFlags & NEW_CHAT ? 1 : 0;
    seconds[selected++] = touch.secondsToFirstMessage ?? NaN;
  }
  return { ids: ids.subarray(0, selected), chats: chats.subarray(0, selected), newChat: newChat.subarray(0, selected), seconds: seconds.subarray(0, selected) };
}

/** For each filtered column, the codes it accepts; null when some filter matches no stored value. */
function conditionsOf(columns: ReferralColumns, filter: ReferralFilter): { column: Int32Array; accepts: Uint8Array }[] | null {
  const conditions: { column: Int32Array; accepts: Uint8Array }[] = [];
  const add = (column: Int32Array, values: readonly (string | null)[], accept: (value: string) => boolean) => {
    const accepts = new Uint8Array(values.length);
    values.forEach((value, code) => {
      if (value !== null && accept(value)) accepts[code] = 1;
    });
    conditions.push({ column, accepts });
    return accepts.includes(1);
  };
  const { codes, values } = columns;
  const matchable = [
    ...(["ref", "campaign", "channel", "variant", "source", "platform"] as const).map(
      (field) => filter[field] === undefined || add(codes[field], values[field], (value) => value === filter[field]),
    ),
    filter.refPrefix === undefined || add(codes.ref, values.ref, (value) => value.startsWith(filter.refPrefix as string)),
    filter.chatId === undefined || add(columns.chat, columns.chatIds, (value) => value === filter.chatId),
  ];
  return matchable.every(Boolean) ? conditions : null;
}

/** The earliest and just after the latest time among the selected referrals; null when there are none. */
function span({ receivedAt }: ReferralColumns, { ids }: Selected): Period | null {
  if (ids.length === 0) return null;
  let [first, last] = [Infinity, -Infinity];
  for (const id of ids) [first, last] = [Math.min(first, receivedAt[id]), Math.max(last, receivedAt[id])];
  return { from: first, to: last + 1 };
}

/**
 * Groups the selected referrals by the values of `fields`: group numbers in order of first appearance, and each
 * group's values of the fields.
 */
function group({ codes, values }: ReferralColumns, { ids }: Selected, fields: readonly IndexedField[]): { grouping: Grouping; keys: (string | null)[][] } {
  // Each referral's combination of codes as one number (mixed radix), renumbered densely before it could overflow.
  const combined = new Float64Array(ids.length);
  let radix = 1;
  for (const field of fields) {
    const column = codes[field];
    const size = values[field].length;
    if (radix * size > Number.MAX_SAFE_INTEGER) radix = renumber(combined, radix).count;
    for (let i = 0; i < ids.length; i++) combined[i] = combined[i] * size + column[ids[i]];
    radix *= size;
  }
  const { groupOf, count, firsts } = renumber(combined, radix);
  const keys = firsts.map((i) => fields.map((field) => values[field][codes[field][ids[i]]]));
  return { grouping: { groupOf, count }, keys };
}

/**
 * Renumbers values below `radix` densely in order of first appearance, in place too; `firsts` holds each number's
 * first position.
 */
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

/**
 * The first groups in the order, by number, with their metrics when the order needed them all (null otherwise). An
 * order on the key or a count needs only the counts: exact unique chats and percentiles, which cost more, are then
 * left for the chosen groups.
 */
function choose(
  columns: ReferralColumns,
  selected: Selected,
  grouping: Grouping,
  keys: (string | null)[][],
  { order, first }: CampaignQuery,
): { numbers: number[]; metrics: CampaignMetrics[] | null } {
  const numbers = Array.from({ length: grouping.count }, (_, g) => g);
  const byKey = (a: number, b: number) => compareKeys(keys[a], keys[b]);
  const { by, descending } = order;
  const sign = descending ? -1 : 1;
  if (by === "key") return { numbers: numbers.sort((a, b) => sign * byKey(a, b)).slice(0, first), metrics: null };
  if (isCountMetric(by)) {
    const tally = tallyOf(columns, selected, grouping);
    const values = numbers.map((g) => countMetrics(countsOf(tally, g))[by]);
    return { numbers: numbers.sort(byValue(values, sign, byKey)).slice(0, first), metrics: null };
  }
  const all = metrics(columns, selected, grouping);
  const chosen = numbers.sort(byValue(all.map((m) => m[by]), sign, byKey)).slice(0, first);
  return { numbers: chosen, metrics: chosen.map((g) => all[g]) };
}

/** Groups by their value, nulls last whichever the direction, then by key. */
function byValue(values: (number | null)[], sign: number, byKey: (a: number, b: number) => number) {
  return (a: number, b: number) => {
    const [x, y] = [values[a], values[b]];
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return sign * (x - y);
    }
    return byKey(a, b);
  };
}

/** Keys field by field, null first. */
function compareKeys(a: (string | null)[], b: (string | null)[]): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Which of the ascending bucket `starts` each selected referral falls in. */
function buckets({ receivedAt }: ReferralColumns, { ids }: Selected, starts: number[]): Int32Array {
  const bucketOf = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) bucketOf[i] = bucketIndex(starts, receivedAt[ids[i]]);
  return bucketOf;
}

/** Each group's counts: what ordering by a count needs, at a fraction of the cost of metrics(). */
function tallyOf(columns: ReferralColumns, { ids, newChat, seconds }: Selected, { groupOf, count }: Grouping): Tally {
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
    greetingsSent[g] += columns.greetingsSent[ids[i]];
    greetingReplies[g] += columns.greetingReplies[ids[i]];
  }
  return { referrals, conversions, newChats, greetingsSent, greetingReplies };
}

/** Group g's counts in a tally. */
function countsOf(tally: Tally, g: number): Omit<CampaignCounts, "uniqueChats"> {
  return {
    referrals: tally.referrals[g],
    newChats: tally.newChats[g],
    conversions: tally.conversions[g],
    greetingsSent: tally.greetingsSent[g],
    greetingReplies: tally.greetingReplies[g],
  };
}

/** The metrics of each group (campaignMetrics in attribution.ts): counts, exact unique chats and percentiles. */
function metrics(columns: ReferralColumns, selected: Selected, grouping: Grouping): CampaignMetrics[] {
  const { ids, chats: chatOf, seconds } = selected;
  const { groupOf, count } = grouping;
  const tally = tallyOf(columns, selected, grouping);
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
  const seenIn = new Int32Array(columns.chatIds.length).fill(-1);
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
