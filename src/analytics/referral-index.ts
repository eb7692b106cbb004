import { DataSource, EntityManager } from "typeorm";
import { parameterMarker } from "../db/bulk-insert";
import { isPostgres } from "../db/data-source";
import { revisionWatermark } from "../db/revision";
import { GreetingStatus } from "../greetings/greeting.entity";
import { GREETING_REPLY_WINDOW_MS } from "./attribution";
import { FIRST_TOUCH, IndexedField, INDEXED_FIELDS, NEW_CHAT, PRESENT, ReferralColumns } from "./referral-aggregation";

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

/**
 * The analytics columns of every referral, in memory as typed arrays indexed by referral id (about 70 bytes a
 * referral), so that exact unique chats and percentiles over hundreds of thousands of referrals are one scan
 * (aggregateCampaigns in referral-aggregation.ts).
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
  private codes = Object.fromEntries(INDEXED_FIELDS.map((field) => [field, new Int32Array(0)])) as Record<IndexedField, Int32Array>;
  private readonly dictionaries = Object.fromEntries(INDEXED_FIELDS.map((field) => [field, new Dictionary()])) as Record<IndexedField, Dictionary>;
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

  /** The columns as they stand: a view that later catch-ups change and may replace, so read it at once. */
  columns(): ReferralColumns {
    return {
      end: this.end,
      flags: this.flags,
      receivedAt: this.receivedAt,
      firstReplyAt: this.firstReplyAt,
      lastTouchReplyAt: this.lastTouchReplyAt,
      chat: this.chat,
      greetingsSent: this.greetingsSent,
      greetingReplies: this.greetingReplies,
      codes: this.codes,
      values: Object.fromEntries(INDEXED_FIELDS.map((field) => [field, this.dictionaries[field].values])) as Record<IndexedField, (string | null)[]>,
      chatIds: this.chats.values,
    };
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
    for (const field of INDEXED_FIELDS) this.codes[field][id] = this.dictionaries[field].code(row[field]);
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
    this.codes = Object.fromEntries(INDEXED_FIELDS.map((field) => [field, grow(this.codes[field])])) as Record<IndexedField, Int32Array>;
    this.capacity = capacity;
  }
}
