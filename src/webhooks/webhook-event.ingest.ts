import { DataSource } from "typeorm";
import { insertStatements, parameterList } from "../db/bulk-insert";
import { aggregatedRows, Bindings, jsonRows, Read } from "../db/rows";
import { SqlStatement, statement } from "../db/sql-script";
import { Envelope, Interpretation, storableBody } from "./envelope";
import { WebhookEvent, WebhookEventStatus } from "./webhook-event.entity";

// The inbox's part of ingesting a batch of webhooks: each event stored once, repeats counted, each delivery answered.

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

export interface InboxPlan {
  /** Events new to the inbox, once each. */
  rows: WebhookEvent[];
  /** How many more deliveries each stored event had, as ids by count (one update per count). */
  repeats: Map<number, string[]>;
  /** Replayed events whose FAILED row gives way to the new one. */
  replayed: string[];
  /** Each delivery's answer, in order. */
  outcomes: IngestOutcome[];
  /** The interpretations of the new events: what the rest of the batch applies. */
  applied: Interpretation[];
}

/** The statuses of the stored events among these ids. */
export const eventStatuses = (bindings: Bindings, ids: string[]): Read<Map<string, WebhookEventStatus>> => ({
  sql: aggregatedRows(bindings.connection, ["id", "status"], `FROM webhook_event WHERE ${bindings.in("id", ids)}`),
  decode: (value) => new Map(jsonRows(value) as [string, WebhookEventStatus][]),
});

/**
 * Each delivery is new (stored, and applied), a repeat of a stored event (counted), or a repeat of an earlier one in
 * the batch (counted on it); a replay of a FAILED event is new again. `stored`: the events' stored statuses.
 */
export function planInbox(batch: Delivery[], interpretations: Interpretation[], stored: Map<string, WebhookEventStatus>, storeMessageBodies: boolean): InboxPlan {
  const replayed = batch.filter((d) => d.replayOf && stored.get(d.envelope.id) === WebhookEventStatus.FAILED).map((d) => d.envelope.id);
  const before = new Map(stored);
  for (const id of replayed) before.delete(id);
  const fresh = new Map<string, { row: WebhookEvent; interpretation: Interpretation }>();
  const repeatCounts = new Map<string, number>();
  const outcomes = batch.map((delivery, i): IngestOutcome => {
    const id = delivery.envelope.id;
    const first = fresh.get(id);
    const storedStatus = before.get(id);
    if (first) first.row.duplicates += 1;
    else if (storedStatus) repeatCounts.set(id, (repeatCounts.get(id) ?? 0) + 1);
    else fresh.set(id, { row: inboxRow(delivery, interpretations[i], storeMessageBodies), interpretation: interpretations[i] });
    return { status: first?.row.status ?? storedStatus ?? interpretations[i].status, duplicate: Boolean(first ?? storedStatus) };
  });
  const repeats = new Map<number, string[]>();
  for (const [id, count] of repeatCounts) {
    const ids = repeats.get(count);
    if (ids) ids.push(id);
    else repeats.set(count, [id]);
  }
  const entries = [...fresh.values()];
  return { rows: entries.map((f) => f.row), repeats, replayed, outcomes, applied: entries.map((f) => f.interpretation) };
}

/** The inbox row of a delivery, as interpreted. */
export function inboxRow(delivery: Delivery, interpretation: Pick<Interpretation, "status" | "error">, storeMessageBodies: boolean): WebhookEvent {
  return Object.assign(new WebhookEvent(), {
    id: delivery.envelope.id,
    type: delivery.envelope.type,
    deliveryId: delivery.deliveryId,
    rawBody: storableBody(delivery.envelope, delivery.rawBody, storeMessageBodies),
    receivedAt: delivery.receivedAt,
    status: interpretation.status,
    error: interpretation.error,
    duplicates: delivery.replayOf?.duplicates ?? 0,
  });
}

export function inboxStatements(connection: DataSource, plan: InboxPlan): SqlStatement[] {
  const list = (ids: string[]) => parameterList(connection, ids.length);
  return [
    ...(plan.replayed.length > 0 ? [statement(`DELETE FROM webhook_event WHERE status = '${WebhookEventStatus.FAILED}' AND id IN (${list(plan.replayed)})`, plan.replayed)] : []),
    ...insertStatements(connection, WebhookEvent, plan.rows),
    ...[...plan.repeats].map(([count, ids]) => statement(`UPDATE webhook_event SET duplicates = duplicates + ${count} WHERE id IN (${list(ids)})`, ids)),
  ];
}
