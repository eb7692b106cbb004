import { DataSource } from "typeorm";
import { Config } from "../config/config";
import { parseEnvelope } from "../webhooks/envelope";
import { IngestService } from "../webhooks/ingest.service";
import { WebhookEventStatus } from "../webhooks/webhook-event.entity";
import { UsageError } from "../cli/keys";
import { seedEventChunks, SeedOptions } from "./seed-events";

// The plan of every event (time, chat, ref) is held in memory until the events are sorted by time.
const MAX_REFERRALS = 10_000_000;

/** Reads and checks the seed command's options; throws a UsageError naming the bad one. */
export function seedOptions(values: Record<string, string | boolean | undefined>, now: Date): SeedOptions {
  const integer = (name: string, min: number, max: number, fallback?: number): number => {
    const value = values[name];
    if (value === undefined && fallback !== undefined) return fallback;
    if (value === undefined) throw new UsageError(`seed needs --${name} <count>`);
    const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(number >= min && number <= max)) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${String(value)})`);
    return number;
  };
  const referrals = integer("referrals", 1, MAX_REFERRALS);
  const chats = integer("chats", 1, MAX_REFERRALS);
  if (chats > referrals) throw new UsageError(`--chats (${chats}) must not exceed --referrals (${referrals}): every chat gets at least one referral`);
  const end = values.end === undefined ? now : new Date(typeof values.end === "string" ? values.end : NaN);
  if (Number.isNaN(end.getTime())) throw new UsageError(`--end must be an ISO-8601 time such as 2026-11-01T00:00:00Z (got ${String(values.end)})`);
  return { referrals, chats, refs: integer("refs", 1, 1_000_000), days: integer("days", 1, 3650), seed: integer("seed", 0, 2 ** 32 - 1, 1), end };
}
// Transactions this large amortise each statement's and commit's fixed cost over thousands of events, and write each
// index page a batch touches once for many events (the server keeps its own, smaller batches). SQLite takes at most
// 32,766 values in one statement, and the reads of every batch bind one or two per event; a batch over the limit is
// applied one event at a time instead. On PostgreSQL a batch takes an advisory lock per event, chat and message, and the
// server's lock table holds about 6,400 by default, so batches stay smaller there.
const batchSize = (db: DataSource) => (db.options.type === "postgres" ? 1024 : 16_000);

/** Feeds the seed events to ingestion as deliveries, a bounded number in flight; returns the summary line. */
export async function seedDatabase(db: DataSource, config: Readonly<Config>, options: SeedOptions, progress: (line: string) => void): Promise<string> {
  const started = Date.now();
  if (db.options.type === "sqlite") await db.query("PRAGMA cache_size = -262144");
  const ingest = new IngestService(db, {
    storeMessageBodies: config.storeMessageBodies,
    grammar: config.grammar,
    maxBatch: batchSize(db),
    onFailure: (eventId, error) => progress(`seed: event ${eventId} FAILED: ${error instanceof Error ? error.message : String(error)}`),
  });
  const chats = new Set<string>();
  let [referrals, messages, reported] = [0, 0, started];
  const inFlight: Promise<void>[] = [];
  const slots = 2 * batchSize(db);
  let n = 0;
  for await (const chunk of seedEventChunks(options)) {
    for (const [i, rawBody] of chunk.bodies.entries()) {
      const parsed = parseEnvelope(rawBody);
      if (!parsed.ok) throw new Error(`seed built an event that does not parse: ${parsed.reason}`);
      const delivery = { envelope: parsed.envelope, rawBody, deliveryId: chunk.deliveryIds[i], receivedAt: new Date(chunk.receivedAt[i]) };
      const slot = n++ % slots;
      await inFlight[slot];
      inFlight[slot] = ingest.ingest(delivery).then((outcome) => {
        if (outcome.status !== WebhookEventStatus.PROCESSED || outcome.duplicate) return;
        if (parsed.envelope.type === "message.received") messages += 1;
        else {
          referrals += 1;
          chats.add(chunk.chatIds[i]);
        }
        if (Date.now() - reported >= 10_000) {
          reported = Date.now();
          progress(`seed: ${referrals} of ${options.referrals} referrals (${Math.round((reported - started) / 1000)} s)`);
        }
      });
    }
  }
  await Promise.all(inFlight);
  return `seeded ${referrals} referrals in ${chats.size} chats (${messages} messages) in ${Math.round((Date.now() - started) / 1000)} s`;
}
