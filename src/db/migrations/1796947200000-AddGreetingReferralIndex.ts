import { MigrationInterface, QueryRunner, TableIndex } from "typeorm";

/** campaignStats reads each referral's published greetings: by referral, not by a scan of the outbox. */
export class AddGreetingReferralIndex1796947200000 implements MigrationInterface {
  name = "AddGreetingReferralIndex1796947200000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex("greeting", new TableIndex({ name: "IDX_greeting_referral", columnNames: ["referral_id"] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex("greeting", "IDX_greeting_referral");
  }
}
