import { MigrationInterface, QueryRunner, Table, TableIndex, TableUnique } from "typeorm";

/** The greeting outbox: a greeting is recorded before any call to Postproxy, and its fate kept. */
export class CreateGreetings1796774400000 implements MigrationInterface {
  name = "CreateGreetings1796774400000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "greeting",
        columns: [
          { name: "id", type: "text", isPrimary: true },
          { name: "chat_id", type: "text" },
          { name: "referral_id", type: "integer", isNullable: true },
          { name: "idempotency_key", type: "text" },
          { name: "body", type: "text" },
          { name: "tag", type: "text", isNullable: true },
          { name: "status", type: "text" },
          { name: "attempts", type: "integer", default: 0 },
          { name: "error", type: "text", isNullable: true },
          { name: "postproxy_message_id", type: "text", isNullable: true },
          { name: "next_attempt_at", type: "bigint", isNullable: true },
          { name: "created_at", type: "bigint" },
          { name: "sent_at", type: "bigint", isNullable: true },
        ],
        uniques: [new TableUnique({ name: "UQ_greeting_chat_key", columnNames: ["chat_id", "idempotency_key"] })],
        indices: [
          new TableIndex({ name: "IDX_greeting_status_next", columnNames: ["status", "next_attempt_at"] }),
          new TableIndex({ name: "IDX_greeting_postproxy_message", columnNames: ["postproxy_message_id"] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("greeting");
  }
}
