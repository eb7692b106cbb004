import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import { mergeChat } from "../chats/chat-state";
import { Chat } from "../chats/chat.entity";
import { mergeMessage } from "../chats/message-state";
import { Message } from "../chats/message.entity";
import { retryWhenBusy, writeTransaction } from "../db/busy";
import { isPostgres } from "../db/data-source";
import { classifyDatabaseError } from "../db/faults";
import { restampGreetedReferrals, settleGreetings } from "../greetings/greeting.service";
import { GreetingRule } from "../greetings/greeting-rule.entity";
import { queueRuleGreetings } from "../greetings/rule-greetings";
import { bulkInsert, overwriteOnConflict } from "../db/bulk-insert";
import { writeRevision } from "../db/revision";
import { runStatements, runWrites } from "../db/statements";
import { Settled, WriteBatcher } from "../db/write-batcher";
import { earliestFacts, isLate, markDisplacedFirsts, readHistory, referralWrites, restampReferralsOf, storedReplies, upsertReferrals } from "../referrals/referral-history";
import { RefGrammar } from "../referrals/ref-grammar";
import { Envelope, Interpretation, interpretEvent, parseEnvelope, storableBody } from "./envelope";
import { WebhookEvent, WebhookEventStatus } from "./webhook-event.entity";

export interface Delivery {
  envelope: Envelope;
  rawBody: string;
  deliveryId: string | null;
  receivedAt: Date;
  /** Set when replaying a FAILED event: its stored duplicate count, kept across the replay. */
  replayOf?: WebhookEvent;
}

export interface IngestOutcome {
  status: WebhookEventStatus;
  duplicate: boolean;
}

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
    this.batcher = new WriteBatcher((batch) => this.timedCommit(batch), options.maxBatch ?? MAX_BATCH);
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

  private async timedCommit(batch: Delivery[]): Promise<Settled<IngestOutcome>[]> {
    const started = performance.now();
    let outcome: "committed" | "failed" = "failed";
    try {
      const settled = await this.commit(batch);
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
  private async commit(batch: Delivery[]): Promise<Settled<IngestOutcome>[]> {
    try {
      // Should the busy timeout run out while another connection writes, the whole batch runs again.
      const outcomes = await retryWhenBusy(() => writeTransaction(this.db, (manager) => this.apply(manager, batch)));
      return outcomes.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (classifyDatabaseError(error).fault) return batch.map(() => ({ ok: false, error }));
      if (batch.length === 1) return [await this.recordFailure(batch[0], error)];
      const settled: Settled<IngestOutcome>[] = [];
      let fault: Settled<IngestOutcome> | undefined;
      for (const delivery of batch) {
        // Once the database faults, the rest are refused untried: each would wait for the same fault.
        const [result] = fault ? [fault] : await this.commit([delivery]);
        if (!result.ok && classifyDatabaseError(result.error).fault) fault = result;
        settled.push(result);
      }
      return settled;
    }
  }

  private async apply(manager: EntityManager, batch: Delivery[]): Promise<IngestOutcome[]> {
    const interpretations = batch.map((d) => interpretEvent(d.envelope, d.receivedAt, this.options.storeMessageBodies));
    await this.lockKeys(manager, batch, interpretations);
    const replayed = batch.filter((d) => d.replayOf).map((d) => d.envelope.id);
    if (replayed.length > 0)
      await manager.createQueryBuilder().delete().from(WebhookEvent).where("id IN (:...replayed)", { replayed }).andWhere("status = :failed", { failed: WebhookEventStatus.FAILED }).execute();

    // Reads go out together (on SQLite; see runStatements): every await is a trip through the event loop, which is
    // busy with incoming requests, and the database would sit idle waiting for each one. Writes go one at a time
    // (see runWrites), one statement per table.
    const ids = [...new Set(batch.map((d) => d.envelope.id))];
    const touched = interpretations.flatMap((i) => (i.chat ? [i.chat] : []));
    const referralFacts = touched.flatMap((fact) => (fact.referral ? [fact.referral] : []));
    const [revision, rules, storedEvents, chats, messages, inboundHistory] = await runStatements(manager, [
      () => writeRevision(manager),
      () => manager.getRepository(GreetingRule).findBy({ enabled: true }),
      () => manager.createQueryBuilder(WebhookEvent, "e").select(["e.id", "e.status"]).where("e.id IN (:...ids)", { ids }).getMany(),
      () => readById(manager, Chat, interpretations.flatMap((i) => (i.chat ? [i.chat.id] : []))),
      () => readById(manager, Message, interpretations.flatMap((i) => (i.message ? [i.message.id] : []))),
      () => readHistory(manager, earliestFacts(touched, new Set(touched.filter((fact) => fact.inboundAt).map((fact) => fact.id)))),
    ] as const);
    // Referrals delivered at or before a stored message of their chat need its replies and history; most need neither.
    const late = referralFacts.filter((fact) => isLate(chats.get(fact.chatId), fact.receivedAt));
    const [replies, lateHistory] = await runStatements(manager, [
      () => storedReplies(manager, late),
      () => readHistory(manager, earliestFacts(touched, new Set(late.map((fact) => fact.chatId).filter((id) => !inboundHistory.has(id))))),
    ] as const);
    const history = { referrals: new Map([...inboundHistory, ...lateHistory]), replies, chats: new Map(chats) };
    const stored = new Map(storedEvents.map((e) => [e.id, e.status]));
    const outcomes: IngestOutcome[] = [];
    const fresh = new Map<string, { row: WebhookEvent; interpretation: Interpretation }>();
    const repeats = new Map<string, number>();
    batch.forEach((delivery, i) => {
      const id = delivery.envelope.id;
      const first = fresh.get(id);
      if (first) first.row.duplicates += 1;
      else if (stored.has(id)) repeats.set(id, (repeats.get(id) ?? 0) + 1);
      else fresh.set(id, { row: this.inboxRow(delivery, interpretations[i]), interpretation: interpretations[i] });
      const status = first?.row.status ?? stored.get(id) ?? interpretations[i].status;
      outcomes.push({ status, duplicate: Boolean(first) || stored.has(id) });
    });

    const applied = [...fresh.values()].map((f) => f.interpretation);
    const chatFacts = applied.flatMap((i) => (i.chat ? [i.chat] : []));
    const chatRows = fold(chats, chatFacts, mergeChat);
    const referralChanges = referralWrites(history, chatFacts, chats, this.options.grammar);
    const replatformed = chatRows.filter((chat) => history.chats.has(chat.id) && history.chats.get(chat.id)?.platform !== chat.platform);
    const messageRows = fold(messages, applied.flatMap((i) => (i.message ? [i.message] : [])), mergeMessage);
    await runWrites([
      () => bulkInsert(manager, WebhookEvent, [...fresh.values()].map((f) => f.row)),
      () => bulkInsert(manager, Chat, chatRows, overwriteOnConflict(manager, Chat, "id")),
      () => bulkInsert(manager, Message, messageRows, overwriteOnConflict(manager, Message, "id")),
      () => upsertReferrals(manager, referralChanges.rows, revision),
      () => markDisplacedFirsts(manager, referralChanges.displacedFirsts, revision),
      () => restampReferralsOf(manager, replatformed.map((chat) => chat.id), revision),
      () => restampGreetedReferrals(manager, [...new Set(applied.flatMap((i) => (i.message ? [i.message.chatId] : [])))], revision),
      ...[...idsByCount(repeats)].map(([count, ids]) => () =>
        manager.createQueryBuilder().update(WebhookEvent).set({ duplicates: () => `duplicates + ${count}` }).where("id IN (:...ids)", { ids }).execute(),
      ),
    ]);
    await settleGreetings(manager, [...new Set(applied.flatMap((i) => (i.message?.direction === "outbound" ? [i.message.id] : [])))]);
    await queueRuleGreetings(manager, rules, referralChanges.rows, chatRows, chatFacts, this.options.grammar, this.options.clock?.() ?? new Date());
    return outcomes;
  }

  private inboxRow(delivery: Delivery, interpretation: Interpretation): WebhookEvent {
    return Object.assign(new WebhookEvent(), {
      id: delivery.envelope.id,
      type: delivery.envelope.type,
      deliveryId: delivery.deliveryId,
      rawBody: storableBody(delivery.envelope, delivery.rawBody, this.options.storeMessageBodies),
      receivedAt: delivery.receivedAt,
      status: interpretation.status,
      error: interpretation.error,
      duplicates: delivery.replayOf?.duplicates ?? 0,
    });
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
    const row = this.inboxRow(delivery, { status: WebhookEventStatus.FAILED, error: reason });
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

/** Folds each fact into its row with `merge`; returns the rows that changed. */
function fold<E, F extends { id: string }>(rows: Map<string, E>, facts: F[], merge: (current: E | null, fact: F) => E): E[] {
  for (const fact of facts) rows.set(fact.id, merge(rows.get(fact.id) ?? null, fact));
  return [...new Set(facts.map((fact) => fact.id))].map((id) => rows.get(id) as E);
}

/** The ids by how many times each repeated: one duplicates update per count, not per event. */
function idsByCount(repeats: Map<string, number>): Map<number, string[]> {
  const byCount = new Map<number, string[]>();
  for (const [id, count] of repeats) {
    const ids = byCount.get(count);
    if (ids) ids.push(id);
    else byCount.set(count, [id]);
  }
  return byCount;
}

/** The rows with these ids, by id. */
async function readById<E extends ObjectLiteral & { id: string }>(manager: EntityManager, entity: EntityTarget<E>, ids: string[]): Promise<Map<string, E>> {
  if (ids.length === 0) return new Map();
  const rows = await manager.createQueryBuilder(entity, "row").where("row.id IN (:...ids)", { ids: [...new Set(ids)] }).getMany();
  return new Map(rows.map((row) => [row.id, row]));
}
