import { MigrationInterface, QueryRunner } from "typeorm";

// LAST_TOUCH with the default 24-hour window, as README defines it: the reply the referral's row keeps, if it came
// within 24 h. The CSV export reads this view, so the two can never disagree.
const CONVERTED = "r.last_touch_reply_at IS NOT NULL AND r.last_touch_reply_at < r.received_at + 86400000";

const referralFacts = (receivedAt: string, seconds: string) => `
  CREATE VIEW referral_facts AS
  SELECT r.id, ${receivedAt} AS received_at, r.received_at AS received_at_ms, r.chat_id, c.platform,
    r.ref, r.campaign, r.channel, r.variant, r.tags, r.source, r.type, r.ad_id,
    r.is_new_chat, r.is_first_touch, ${CONVERTED} AS converted,
    CASE WHEN ${CONVERTED} THEN ${seconds} END AS seconds_to_first_message
  FROM referral r LEFT JOIN chat c ON c.id = r.chat_id`;

/**
 * Read-only views for BI tools that connect to the database: their columns are a stable contract. A later migration
 * that drops or changes a column they read (or that rebuilds referral or chat, as TypeORM does to alter a table on
 * SQLite) must drop them first and create them again after.
 */
export class AddBiViews1796083200000 implements MigrationInterface {
  name = "AddBiViews1796083200000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const elapsedMs = "r.last_touch_reply_at - r.received_at";
    await queryRunner.query(
      queryRunner.connection.options.type === "postgres"
        ? referralFacts("to_timestamp(r.received_at / 1000.0)", `CAST((${elapsedMs}) / 1000.0 AS double precision)`)
        : referralFacts("strftime('%Y-%m-%dT%H:%M:%fZ', r.received_at / 1000.0, 'unixepoch')", `(${elapsedMs}) / 1000.0`),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP VIEW referral_facts");
  }
}
