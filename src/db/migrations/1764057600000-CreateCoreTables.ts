import { MigrationInterface, QueryRunner, Table, TableIndex, TableUnique } from "typeorm";

// Written with TypeORM's Table API rather than raw SQL so the one migration runs on SQLite and PostgreSQL alike.
const text = (name: string, nullable = true) => ({ name, type: "text", isNullable: nullable });
const varchar = (name: string, length: number, nullable = true) => ({ name, type: "varchar", length: String(length), isNullable: nullable });
const time = (name: string, nullable = true) => ({ name, type: "bigint", isNullable: nullable });
const generatedId = { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" as const };

export class CreateCoreTables1764057600000 implements MigrationInterface {
  name = "CreateCoreTables1764057600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "chat",
        columns: [
          { ...varchar("id", 255, false), isPrimary: true },
          varchar("profile_id", 255),
          varchar("platform", 32),
          varchar("participant_external_id", 255),
          varchar("participant_username", 255),
          varchar("participant_name", 255),
          text("referral_ref"),
          varchar("referral_source", 64),
          varchar("referral_type", 64),
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
          varchar("event_id", 255, false),
          varchar("chat_id", 255, false),
          text("ref", false),
          varchar("source", 64),
          varchar("type", 64),
          time("received_at", false),
          varchar("ad_id", 255),
          text("ads_context"),
        ],
        uniques: [new TableUnique({ name: "UQ_referral_chat_ref_time", columnNames: ["chat_id", "ref", "received_at"] })],
        indices: [
          new TableIndex({ name: "IDX_referral_chat_time", columnNames: ["chat_id", "received_at"] }),
          new TableIndex({ name: "IDX_referral_ref_time", columnNames: ["ref", "received_at"] }),
          new TableIndex({ name: "IDX_referral_received_at", columnNames: ["received_at"] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "message",
        columns: [
          { ...varchar("id", 255, false), isPrimary: true },
          varchar("chat_id", 255, false),
          varchar("direction", 16, false),
          varchar("status", 32, false),
          text("body"),
          time("posted_at"),
          text("tapped_action"),
          varchar("external_id", 255),
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
          { ...varchar("id", 255, false), isPrimary: true },
          varchar("type", 128, false),
          varchar("delivery_id", 255),
          text("raw_body", false),
          time("received_at", false),
          varchar("status", 16, false),
          text("error"),
          { name: "duplicates", type: "integer", isNullable: false, default: 0 },
        ],
        indices: [
          new TableIndex({ name: "IDX_webhook_event_received", columnNames: ["received_at", "id"] }),
          new TableIndex({ name: "IDX_webhook_event_type", columnNames: ["type"] }),
          new TableIndex({ name: "IDX_webhook_event_status", columnNames: ["status"] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: "api_key",
        columns: [
          generatedId,
          { ...varchar("name", 128, false), isUnique: true },
          varchar("scope", 8, false),
          { ...varchar("key_hash", 64, false), isUnique: true },
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
