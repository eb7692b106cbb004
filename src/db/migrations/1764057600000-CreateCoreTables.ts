import { MigrationInterface, QueryRunner, Table, TableIndex, TableUnique } from "typeorm";

// Written with TypeORM's Table API rather than raw SQL so the one migration runs on SQLite and PostgreSQL alike.
// Strings are text (no length) so no id or name Postproxy sends can overflow a column on PostgreSQL.
const text = (name: string, nullable = true) => ({ name, type: "text", isNullable: nullable });
const time = (name: string, nullable = true) => ({ name, type: "bigint", isNullable: nullable });
const generatedId = { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" as const };

export class CreateCoreTables1764057600000 implements MigrationInterface {
  name = "CreateCoreTables1764057600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "chat",
        columns: [
          { ...text("id", false), isPrimary: true },
          text("profile_id"),
          text("platform"),
          text("participant_external_id"),
          text("participant_username"),
          text("participant_name"),
          text("referral_ref"),
          text("referral_source"),
          text("referral_type"),
          time("referral_received_at"),
          text("first_referral_ref"),
          time("first_referral_at"),
          time("first_inbound_at"),
          time("last_inbound_at"),
          time("last_activity_at", false),
          time("created_at", false),
        ],
        indices: [
          new TableIndex({ name: "IDX_chat_platform", columnNames: ["platform"] }),
          new TableIndex({ name: "IDX_chat_last_activity", columnNames: ["last_activity_at"] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "referral",
        columns: [
          generatedId,
          text("event_id", false),
          text("chat_id", false),
          text("ref", false),
          text("source"),
          text("type"),
          time("received_at", false),
          text("ad_id"),
          text("ads_context"),
        ],
        uniques: [new TableUnique({ name: "UQ_referral_chat_ref_time", columnNames: ["chat_id", "ref", "received_at"] })],
        indices: [
          new TableIndex({ name: "IDX_referral_ref_time", columnNames: ["ref", "received_at"] }),
          new TableIndex({ name: "IDX_referral_received_at", columnNames: ["received_at"] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "message",
        columns: [
          { ...text("id", false), isPrimary: true },
          text("chat_id", false),
          text("direction", false),
          text("status", false),
          text("body"),
          time("posted_at"),
          text("tapped_action"),
          text("external_id"),
          text("error_message"),
          time("sent_at"),
          time("delivered_at"),
          time("read_at"),
          time("failed_at"),
        ],
        indices: [new TableIndex({ name: "IDX_message_chat_direction_time", columnNames: ["chat_id", "direction", "posted_at"] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "webhook_event",
        columns: [
          { ...text("id", false), isPrimary: true },
          text("type", false),
          text("delivery_id"),
          text("raw_body", false),
          time("received_at", false),
          text("status", false),
          text("error"),
          { name: "duplicates", type: "integer", isNullable: false, default: 0 },
        ],
        indices: [
          new TableIndex({ name: "IDX_webhook_event_received", columnNames: ["received_at", "id"] }),
          new TableIndex({ name: "IDX_webhook_event_status", columnNames: ["status", "received_at"] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "api_key",
        columns: [
          generatedId,
          { ...text("name", false), isUnique: true },
          text("scope", false),
          { ...text("key_hash", false), isUnique: true },
          time("created_at", false),
          time("revoked_at"),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ["api_key", "webhook_event", "message", "referral", "chat"]) await queryRunner.dropTable(table);
  }
}
