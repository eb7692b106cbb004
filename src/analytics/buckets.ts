// Time buckets for campaign statistics in an IANA time zone: bucketStart() is the Intl-based definition;
// planBuckets() lists a range's buckets from the zone's few offset changes in it, agreeing with bucketStart().
//
// DAY, WEEK (from Monday) and MONTH buckets run from one local midnight to the next, whatever their length.
// An HOUR bucket starts at every local hour boundary and at every offset change, so the local hour that repeats
// when clocks fall back is two buckets, and no hour bucket is longer than 60 minutes (Lord Howe Island moves its
// clock by 30 minutes, giving a 30-minute bucket at each change).

export type Interval = "HOUR" | "DAY" | "WEEK" | "MONTH";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// 1970-01-01 was a Thursday: three days later in the count, weeks begin on Monday.
const MONDAY_SHIFT = 3 * DAY;
const UNIT = { HOUR, DAY, WEEK } as const;
/** Longer than any bucket of the interval (a day is at most 26 hours, a month 31 days and 2 hours). */
const LONGEST: Record<Interval, number> = { HOUR: 2 * HOUR, DAY: 2 * DAY, WEEK: 8 * DAY, MONTH: 32 * DAY };

// Building an Intl.DateTimeFormat costs far more than using one. Clients may spell a zone in any case, so the
// cache is emptied rather than allowed to grow without bound.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size >= 1000) formatters.clear();
    formatters.set(timeZone, format);
  }
  return format;
}

/** True when `name` is an IANA time zone name this runtime knows (Intl). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const mod = (a: number, b: number) => ((a % b) + b) % b;

/** The wall clock in `timeZone` at the instant `ms`, as milliseconds since 1970-01-01 00:00 on that clock. */
function localMillis(timeZone: string, ms: number): number {
  const part: Record<string, number> = {};
  for (const { type, value } of formatter(timeZone).formatToParts(ms)) part[type] = Number(value);
  return Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second) + mod(ms, 1000);
}

function offsetAt(timeZone: string, ms: number): number {
  return localMillis(timeZone, ms) - ms;
}

/** The start of the local hour, day, week or month containing the local time `local`. */
function localFloor(interval: Interval, local: number): number {
  switch (interval) {
    case "HOUR":
      return local - mod(local, HOUR);
    case "DAY":
      return local - mod(local, DAY);
    case "WEEK":
      return local - mod(local + MONDAY_SHIFT, WEEK);
    case "MONTH": {
      const day = new Date(local);
      return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1);
    }
  }
}

/** Instants with the same label are in the same bucket, as long as no other label comes between them. */
function label(interval: Interval, timeZone: string, ms: number): string {
  const local = localMillis(timeZone, ms);
  const start = localFloor(interval, local);
  return interval === "HOUR" ? `${start} ${local - ms}` : String(start);
}

/** The start instant of the bucket containing `at`. Reference implementation (Intl-based): tests hold planBuckets() to it. */
export function bucketStart(interval: Interval, timeZone: string, at: Date): Date {
  const ms = at.getTime();
  const target = label(interval, timeZone, ms);
  // Usually the bucket starts where the local clock last showed a boundary at today's offset.
  const local = localMillis(timeZone, ms);
  const guess = ms - (local - localFloor(interval, local));
  if (label(interval, timeZone, guess) === target && label(interval, timeZone, guess - 1) !== target) return new Date(guess);
  // Near an offset change: binary-search where the run of instants with the target label begins.
  let before = ms - LONGEST[interval];
  let inside = ms;
  while (inside - before > 1) {
    const middle = Math.floor((before + inside) / 2);
    if (label(interval, timeZone, middle) === target) inside = middle;
    else before = middle;
  }
  return new Date(inside);
}

interface Segment {
  /** The first instant with this offset; it lasts until the next segment's `from`. */
  from: number;
  offset: number;
}

/** The zone's offsets over [from, to), sampled daily, each change found to the millisecond. */
function offsetSegments(timeZone: string, from: number, to: number): Segment[] {
  const segments: Segment[] = [{ from, offset: offsetAt(timeZone, from) }];
  let checked = from;
  while (checked < to) {
    const offset = segments[segments.length - 1].offset;
    const next = Math.min(checked + DAY, to);
    if (offsetAt(timeZone, next) === offset) {
      checked = next;
      continue;
    }
    let same = checked;
    let changed = next;
    while (changed - same > 1) {
      const middle = Math.floor((same + changed) / 2);
      if (offsetAt(timeZone, middle) === offset) same = middle;
      else changed = middle;
    }
    segments.push({ from: changed, offset: offsetAt(timeZone, changed) });
    checked = changed;
  }
  return segments;
}

interface Piece {
  /** The first instant this shift applies to; it lasts until the next piece's `from`. */
  from: number;
  shift: number;
}

/**
 * What is added to an instant, piece by piece, before its key is taken. For DAY, WEEK and MONTH that is the
 * offset (making local time). For HOUR it is the offset's part below an hour, plus whole hours chosen so that
 * the key steps up by one at each offset change: a repeated local hour gets new keys, and in a zone whose offset
 * is whole hours the shift never changes (keys are UTC hours).
 */
function shiftPieces(interval: Interval, segments: Segment[]): Piece[] {
  const pieces: Piece[] = [];
  for (const { from, offset } of segments) {
    const last = pieces[pieces.length - 1];
    let shift = offset + (interval === "WEEK" ? MONDAY_SHIFT : 0);
    if (interval === "HOUR") {
      const nextKey = last ? Math.floor((from - 1 + last.shift) / HOUR) + 1 : Math.floor((from + mod(offset, HOUR)) / HOUR);
      shift = offset + (nextKey - Math.floor((from + offset) / HOUR)) * HOUR;
    }
    if (last?.shift !== shift) pieces.push({ from, shift });
  }
  return pieces;
}

/** The key of a shifted instant: it changes exactly where a bucket begins. */
function keyOf(interval: Interval, shifted: number): number {
  if (interval !== "MONTH") return Math.floor(shifted / UNIT[interval]);
  const day = new Date(shifted);
  return day.getUTCFullYear() * 100 + day.getUTCMonth() + 1;
}

/** The next shifted instant after `shifted` where the key changes. */
function nextKeyChange(interval: Interval, shifted: number): number {
  if (interval !== "MONTH") return (Math.floor(shifted / UNIT[interval]) + 1) * UNIT[interval];
  const day = new Date(shifted);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1);
}

/**
 * The start instant of every bucket overlapping [from, to), in time order; null when there would be more than
 * maxBuckets (checked without building a huge list).
 */
export function planBuckets({ interval, timeZone, from, to, maxBuckets }: { interval: Interval; timeZone: string; from: number; to: number; maxBuckets: number }): number[] | null {
  // Every bucket is shorter than LONGEST, so a longer range surely has too many.
  if (to - from > maxBuckets * LONGEST[interval]) return null;
  if (to <= from) return [];

  // Wide enough to hold the whole first and last bucket.
  const pieces = shiftPieces(interval, offsetSegments(timeZone, from - LONGEST[interval], to + LONGEST[interval]));
  // Walk from key change to key change, starting inside some bucket before the one containing `from`.
  const starts: number[] = [];
  let lastKey = NaN;
  let piece = 0;
  for (let at = pieces[0].from; at < to; ) {
    while (piece + 1 < pieces.length && pieces[piece + 1].from <= at) piece++;
    const { shift } = pieces[piece];
    const key = keyOf(interval, at + shift);
    if (key !== lastKey) {
      if (at <= from) starts.length = 0;
      starts.push(at);
      if (starts.length > maxBuckets) return null;
      lastKey = key;
    }
    const pieceEnd = piece + 1 < pieces.length ? pieces[piece + 1].from : Infinity;
    at = Math.min(nextKeyChange(interval, at + shift) - shift, pieceEnd);
  }
  return starts;
}

/** Which of the ascending bucket `starts` the instant `at` falls in: the last that starts at or before it. */
export function bucketIndex(starts: readonly number[], at: number): number {
  let [low, high] = [0, starts.length - 1];
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= at) low = middle;
    else high = middle - 1;
  }
  return low;
}
