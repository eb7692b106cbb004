import { MigrationInterface, QueryRunner, Table } from "typeorm";

/** Greeting rules: which referrals get an automated greeting, and what it says. */
export class CreateGreetingRules1796860800000 implements MigrationInterface {
  name = "CreateGreetingRules1796860800000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "greeting_rule",
        columns: [
          { name: "id", type: "text", isPrimary: true },
          { name: "name", type: "text" },
          { name: "ref_pattern", type: "text" },
          { name: "platform", type: "text", isNullable: true },
          { name: "trigger", type: "text" },
          { name: "body", type: "text" },
          { name: "priority", type: "integer" },
          { name: "enabled", type: "boolean" },
          { name: "created_at", type: "bigint" },
          { name: "updated_at", type: "bigint" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("greeting_rule");
  }
}
