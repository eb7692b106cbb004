import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A change stamp on each referral (src/db/revision.ts), so each instance's in-memory analytics copy reads only what
 * changed since it last looked. Added in place with ALTER TABLE: rebuilding the table would break the BI views.
 * Existing rows get 0, which a fresh copy reads like any other.
 */
export class AddReferralRevision1796688000000 implements MigrationInterface {
  name = "AddReferralRevision1796688000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE referral ADD COLUMN revision bigint NOT NULL DEFAULT 0");
    await queryRunner.query(`CREATE INDEX "IDX_referral_revision" ON referral (revision, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_referral_revision"`);
    await queryRunner.query("ALTER TABLE referral DROP COLUMN revision");
  }
}
