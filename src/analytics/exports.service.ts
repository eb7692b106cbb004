import { DataSource } from "typeorm";

/** One line of an export, by column name. */
export type ExportRow = Record<string, string | number | boolean | Date | null>;

export interface ReferralExportFilter {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  ref?: string;
  campaign?: string;
}

export const REFERRAL_COLUMNS = [
  "id",
  "received_at",
  "chat_id",
  "platform",
  "ref",
  "campaign",
  "channel",
  "variant",
  "tags",
  "source",
  "type",
  "ad_id",
  "is_new_chat",
  "converted",
  "seconds_to_first_message",
] as const;

const SELECTED = REFERRAL_COLUMNS.map((column) => (column === "received_at" ? "f.received_at_ms" : `f.${column}`));

/** Exports read the referral_facts view, so a file and a BI tool reading the view always agree. */
export class ExportService {
  constructor(
    private readonly db: DataSource,
    private readonly chunkSize = 1000,
  ) {}

  /** Every referral the filter matches, oldest first (then by id), read in chunks so none is held whole. */
  async *referrals(filter: ReferralExportFilter): AsyncGenerator<ExportRow> {
    let last: Record<string, string | number | boolean | null> | undefined;
    do {
      const query = this.db.createQueryBuilder().select(SELECTED).from("referral_facts", "f");
      if (filter.from) query.andWhere("f.received_at_ms >= :from", { from: filter.from.getTime() });
      if (filter.to) query.andWhere("f.received_at_ms < :to", { to: filter.to.getTime() });
      if (filter.ref !== undefined) query.andWhere("f.ref = :ref", { ref: filter.ref });
      if (filter.campaign !== undefined) query.andWhere("f.campaign = :campaign", { campaign: filter.campaign });
      // The first condition alone bounds the index range; the second skips the rows already sent at that instant.
      if (last) query.andWhere("f.received_at_ms >= :at AND (f.received_at_ms > :at OR f.id > :id)", { at: last.received_at_ms, id: last.id });
      // Ordered by bare column names: TypeORM cannot resolve an alias of a view it has no entity for.
      const chunk = await query.orderBy("received_at_ms", "ASC").addOrderBy("id", "ASC").limit(this.chunkSize).getRawMany();
      for (const fact of chunk)
        yield {
          ...fact,
          received_at: new Date(Number(fact.received_at_ms)),
          // SQLite answers booleans as 0 and 1.
          is_new_chat: Boolean(fact.is_new_chat),
          converted: Boolean(fact.converted),
        };
      last = chunk.length === this.chunkSize ? chunk[chunk.length - 1] : undefined;
    } while (last);
  }
}
