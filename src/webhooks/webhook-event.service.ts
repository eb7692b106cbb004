import { DataSource } from "typeorm";
import { badUserInput, notFound } from "../errors";
import { Keyset, Page, PageArgs, paginate } from "../graphql/connection";
import { IngestService } from "./ingest.service";
import { IngestOutcome } from "./webhook-event.ingest";
import { WebhookEvent, WebhookEventStatus } from "./webhook-event.entity";
import type { WebhookEventFilter } from "./webhook-event-filter";

const newestFirst: Keyset = [
  { sql: "event.received_at", of: (e: WebhookEvent) => e.receivedAt.getTime(), type: "number" },
  { sql: "event.id", of: (e: WebhookEvent) => e.id, type: "string" },
];

export class WebhookEventService {
  constructor(
    private readonly reader: DataSource,
    private readonly ingest: IngestService,
  ) {}

  list(filter: WebhookEventFilter, page: PageArgs): Promise<Page<WebhookEvent>> {
    const query = this.reader.getRepository(WebhookEvent).createQueryBuilder("event");
    if (filter.status !== undefined) query.andWhere("event.status = :status", { status: filter.status });
    if (filter.type !== undefined) query.andWhere("event.type = :type", { type: filter.type });
    return paginate(query, newestFirst, page);
  }

  get(id: string): Promise<WebhookEvent | null> {
    return this.reader.getRepository(WebhookEvent).findOneBy({ id });
  }

  /** Applies a FAILED event again from its stored body and returns it as it is now. */
  async replay(id: string): Promise<{ event: WebhookEvent; outcome: IngestOutcome }> {
    const event = await this.get(id);
    if (!event) throw notFound(`Webhook event '${id}' (argument 'id')`);
    if (event.status !== WebhookEventStatus.FAILED) throw badUserInput("id", `names a ${event.status} event; only FAILED events can be replayed`);
    const outcome = await this.ingest.replay(event);
    return { event: (await this.get(id)) as WebhookEvent, outcome };
  }
}
