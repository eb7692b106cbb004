import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { DataSource } from "typeorm";
import { ReferralIndex } from "../analytics/referral-index";
import { parameterMarker } from "../db/bulk-insert";
import { classifyDatabaseError } from "../db/faults";
import { GreetingStatus } from "../greetings/greeting.entity";
import { IngestOutcome } from "../webhooks/webhook-event.ingest";
import { analyticsLagSeconds } from "./labels";

export interface MetricsSources {
  /** Where scrapes read the outbox and the referrals written since the analytics copy's catch-up. */
  reader: DataSource;
  referralIndex: ReferralIndex;
  now: () => Date;
}

/**
 * refgraph's metrics, in a registry of their own (not prom-client's global one), so that several apps in one
 * process (tests, the demo) each count their own. Counters and histograms move as things happen; the database
 * gauges are read on each scrape.
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly startedAt: number;
  private readonly deliveries = new Counter({
    name: "refgraph_webhook_deliveries_total",
    help: "Webhook deliveries answered, by HTTP status, the event's inbox status (none when not stored) and whether it was a duplicate.",
    labelNames: ["status", "inbox_status", "duplicate"] as const,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: "refgraph_ingest_batch_size",
    help: "Webhook deliveries per ingest transaction.",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: "refgraph_ingest_commit_seconds",
    help: "Time to commit an ingest batch, by outcome (committed, or failed: every delivery of the batch answered 503).",
    labelNames: ["outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: "refgraph_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route pattern (unmatched when no route matched), method and status class.",
    labelNames: ["route", "method", "status_class"] as const,
    registers: [this.registry],
  });
  private readonly databaseErrors = new Counter({
    name: "refgraph_database_errors_total",
    help: "Database errors refgraph handled (failed ingests, requests answered 503, failed scrapes…), by class.",
    labelNames: ["class"] as const,
    registers: [this.registry],
  });
  private readonly outboxDepth = new Gauge({
    name: "refgraph_greeting_outbox_depth",
    help: "Greetings by status.",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  private readonly oldestQueued = new Gauge({
    name: "refgraph_greeting_oldest_queued_age_seconds",
    help: "Age of the oldest QUEUED greeting (0 when none is queued).",
    registers: [this.registry],
  });
  private readonly lagReferrals = new Gauge({
    name: "refgraph_analytics_lag_referrals",
    help: "Referral rows written since the in-memory analytics copy last caught up.",
    registers: [this.registry],
  });
  private readonly lagSeconds = new Gauge({
    name: "refgraph_analytics_lag_seconds",
    help: "Seconds since the analytics copy last caught up, while referrals wait for it (0 when it is current).",
    registers: [this.registry],
  });

  constructor(private readonly sources: MetricsSources) {
    this.startedAt = sources.now().getTime();
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  delivery(status: number, outcome: IngestOutcome | null): void {
    this.deliveries.inc({ status: String(status), inbox_status: outcome?.status ?? "none", duplicate: String(outcome?.duplicate ?? false) });
  }

  commit(size: number, seconds: number, outcome: "committed" | "failed"): void {
    this.batchSize.observe(size);
    this.commitSeconds.observe({ outcome }, seconds);
  }

  request(route: string, method: string, statusClass: string, seconds: number): void {
    this.requestSeconds.observe({ route, method, status_class: statusClass }, seconds);
  }

  databaseError(error: unknown): void {
    this.databaseErrors.inc({ class: classifyDatabaseError(error).label });
  }

  /** The exposition text, the database gauges read now. */
  async scrape(): Promise<string> {
    try {
      await this.readDatabaseGauges();
    } catch (error) {
      // The process metrics still answer; the gauges are left out rather than shown stale.
      this.databaseError(error);
      for (const gauge of [this.outboxDepth, this.oldestQueued, this.lagReferrals, this.lagSeconds]) gauge.reset();
    }
    return this.registry.metrics();
  }

  private async readDatabaseGauges(): Promise<void> {
    const { reader, referralIndex, now } = this.sources;
    const { watermark, at } = referralIndex.catchUpPoint();
    const [greetings, [behind]] = await Promise.all([
      reader.query("SELECT status, COUNT(*) AS count, MIN(created_at) AS oldest FROM greeting GROUP BY status") as Promise<{ status: string; count: number | string; oldest: number | string }[]>,
      reader.query(`SELECT COUNT(*) AS count FROM referral WHERE revision >= ${parameterMarker(reader)(1)}`, [watermark]) as Promise<{ count: number | string }[]>,
    ]);
    const time = now().getTime();
    for (const status of Object.values(GreetingStatus)) this.outboxDepth.set({ status }, 0);
    for (const { status, count } of greetings) this.outboxDepth.set({ status }, Number(count));
    const queued = greetings.find((row) => row.status === GreetingStatus.QUEUED);
    this.oldestQueued.set(queued ? Math.max(0, time - Number(queued.oldest)) / 1000 : 0);
    this.lagReferrals.set(Number(behind.count));
    this.lagSeconds.set(analyticsLagSeconds(Number(behind.count), at, this.startedAt, time));
  }
}
