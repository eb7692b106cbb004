import { MigrationInterface, QueryRunner, Table } from "typeorm";

/** One row /readyz writes to when nothing else wrote lately: ready means a write can commit now. */
export class CreateReadinessProbe1797033600000 implements MigrationInterface {
  name = "CreateReadinessProbe1797033600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "readiness_probe",
        columns: [
          { name: "id", type: "integer", isPrimary: true },
          { name: "checked_at", type: "bigint" },
          // SQLite only, never committed: room the probe makes sure the file still has (src/server/readiness.ts).
          { name: "ballast", type: "text", isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("readiness_probe");
  }
}
