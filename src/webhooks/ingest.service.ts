import { DataSource, EntityManager } from "typeorm";
import { BUSY_RETRY_BOUND_MS, plannedWriteTransaction, PlannedWrites, retryWhenBusy, writeTransaction } from "../db/busy";
import { bulkInsert } from "../db/bulk-insert";
import { isPostgres } from "../db/data-source";
import { classifyDatabaseError } from "../db/faults";
import { Settled, WriteBatcher } from "../db/write-batcher";
import { RefGrammar } from "../referrals/ref-grammar";
import { Interpretation, interpretEvent, parseEnvelope } from "./envelope";
import { batchStatements, loadBatch, planBatch } from "./ingest-batch";
import { Delivery, inboxRow, IngestOutcome } from "./webhook-event.ingest";
import { WebhookEvent, WebhookEventStatus } from "./webhook-event.entity";

export interface IngestOptions {
  storeMessageBodies: boolean;
  grammar: RefGrammar;
  onFailure: (eventId: string, error: unknown) => void;
  /** Most deliveries one transaction takes (default 256; `refgraph seed` takes more). */
  maxBatch?: number;
  /** The clock greeting rules check the messaging window by (default the system's). */
  clock?: () => Date;
  /** Told each batch's size, commit time and whether it committed (metrics). */
  onCommit?: (size: number, seconds: number, outcome: "committed" | "failed") => void;
}

const MAX_BATCH = 256;

/** Turns accepted webhook deliveries into inbox rows and their effects, in batched transactions. */
export class IngestService {
  private readonly batcher: WriteBatcher<Delivery, IngestOutcome>;

  constructor(
    private readonly db: DataSource,
    private readonly options: IngestOptions,
  ) {
    this.batcher = new WriteBatcher((batch, waitingSince) => this.timedCommit(batch, waitingSince), options.maxBatch ?? MAX_BATCH);
  }

  /** Resolves after the delivery's transaction commits; rejects when nothing of it was stored (retry: 503). */
  ingest(delivery: Delivery): Promise<IngestOutcome> {
    return this.batcher.submit(delivery);
  }

  /** Applies a FAILED event again from its stored body (after the cause is fixed). */
  async replay(event: WebhookEvent): Promise<IngestOutcome> {
    const parsed = parseEnvelope(event.rawBody);
    if (!parsed.ok) throw new Error(`stored body of ${event.id} no longer parses: ${parsed.reason}`);
    return this.ingest({ envelope: parsed.envelope, rawBody: event.rawBody, deliveryId: event.deliveryId, receivedAt: event.receivedAt, replayOf: event });
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async timedCommit(batch: Delivery[], waitingSince: number): Promise<Settled<IngestOutcome>[]> {
    const started = performance.now();
    let outcome: "committed" | "failed" = "failed";
    try {
      const settled = await this.commit(batch, waitingSince);
      if (settled.every((result) => result.ok)) outcome = "committed";
      return settled;
    } finally {
      this.options.onCommit?.(batch.length, (performance.now() - started) / 1000, outcome);
    }
  }

  /**
   * A fault of the database or the connection refuses the whole batch (each caller answers 503 and Postproxy
   * retries), nothing written. Any other error is the content's: the batch is split so each event's outcome is its
   * own, and an event that fails alone is kept FAILED.
   */
  private async commit(batch: Delivery[], waitingSince: number): Promise<Settled<IngestOutcome>[]> {
    try {
      // Should the busy timeout run out while another connection writes, the whole batch runs again, until the bound
      // counted from the oldest delivery's arrival: one that queued behind a busy batch is still answered in time.
      const boundMs = BUSY_RETRY_BOUND_MS - (performance.now() - waitingSince);
      const outcomes = await retryWhenBusy(() => plannedWriteTransaction(this.db, (manager) => this.apply(manager, batch)), undefined, boundMs);
      return outcomes.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (classifyDatabaseError(error).fault) return batch.map(() => ({ ok: false, error }));
      if (batch.length === 1) return [await this.recordFailure(batch[0], error)];
      const settled: Settled<IngestOutcome>[] = [];
      let fault: Settled<IngestOutcome> | undefined;
      for (const delivery of batch) {
        // Once the database faults, the rest are refused untried: each would wait for the same fault.
        const [result] = fault ? [fault] : await this.commit([delivery], waitingSince);
        if (!result.ok && classifyDatabaseError(result.error).fault) fault = result;
        settled.push(result);
      }
      return settled;
    }
  }

  private async apply(manager: EntityManager, batch: Delivery[]): Promise<PlannedWrites<IngestOutcome[]>> {
    const interpretations = batch.map((d) => interpretEvent(d.envelope, d.receivedAt, this.options.storeMessageBodies));
    await this.lockKeys(manager, batch, interpretations);
    const loaded = await loadBatch(manager, batch, interpretations);
    const plan = planBatch(batch, interpretations, loaded, {
      grammar: this.options.grammar,
      storeMessageBodies: this.options.storeMessageBodies,
      now: this.options.clock?.() ?? new Date(),
    });
    return { readAt: loaded.readAt, statements: batchStatements(manager.connection, plan, loaded.revision), result: plan.inbox.outcomes };
  }

  /**
   * On PostgreSQL several instances may ingest at once: each batch first takes transaction-scoped advisory locks on
   * every event, chat and message it touches, in one global order (so no deadlock), making its reads and merges
   * as safe as on SQLite, where one process is the only writer.
   */
  private async lockKeys(manager: EntityManager, batch: Delivery[], interpretations: Interpretation[]): Promise<void> {
    if (!isPostgres(manager.connection)) return;
    const keys = new Set<string>();
    batch.forEach((d) => keys.add(`event:${d.envelope.id}`));
    interpretations.forEach((i) => {
      if (i.chat) keys.add(`chat:${i.chat.id}`);
      if (i.message) keys.add(`message:${i.message.id}`);
    });
    await manager.query("SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n) ORDER BY n", [
      [...keys].sort(),
    ]);
  }

  /** Keeps the event FAILED; should that write fail too, the delivery is refused (503) and Postproxy retries it. */
  private async recordFailure(delivery: Delivery, error: unknown): Promise<Settled<IngestOutcome>> {
    const reason = `applying the event failed: ${error instanceof Error ? error.message : String(error)}`;
    const row = inboxRow(delivery, { status: WebhookEventStatus.FAILED, error: reason }, this.options.storeMessageBodies);
    try {
      await writeTransaction(this.db, async (manager) => {
        if (delivery.replayOf) await manager.update(WebhookEvent, { id: row.id }, { error: reason });
        else await bulkInsert(manager, WebhookEvent, [row], "ON CONFLICT (id) DO NOTHING");
      });
    } catch (recordError) {
      return { ok: false, error: recordError };
    }
    this.options.onFailure(delivery.envelope.id, error);
    return { ok: true, value: { status: WebhookEventStatus.FAILED, duplicate: false } };
  }
}
