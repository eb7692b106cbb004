import { MigrationInterface, QueryRunner, TableColumn } from "typeorm";
import { reparseReferrals } from "../../referrals/reparse";
import { parseKeyValueRef } from "../../referrals/ref-grammar";

// Each stored referral's place in its chat's history, as ingestion keeps it from now on (ReferralTimeline).
const EARLIER = `p.chat_id = r.chat_id AND (p.received_at < r.received_at OR (p.received_at = r.received_at AND p.ref < r.ref))`;
const LATER = `n.chat_id = r.chat_id AND (n.received_at > r.received_at OR (n.received_at = r.received_at AND n.ref > r.ref))`;
const REPLY = `SELECT MIN(m.posted_at) FROM message m WHERE m.chat_id = r.chat_id AND m.direction = 'inbound' AND m.posted_at >= r.received_at`;
const HISTORY = `
  UPDATE referral SET first_reply_at = h.first_reply_at, is_first_touch = h.is_first_touch,
    is_new_chat = h.is_first_touch AND NOT h.inbound_before,
    last_touch_reply_at = CASE WHEN h.first_reply_at < COALESCE(h.next_at, h.first_reply_at + 1) THEN h.first_reply_at END
  FROM (
    SELECT r.id, (${REPLY}) AS first_reply_at, (SELECT MIN(n.received_at) FROM referral n WHERE ${LATER}) AS next_at,
      NOT EXISTS (SELECT 1 FROM referral p WHERE ${EARLIER}) AS is_first_touch,
      EXISTS (SELECT 1 FROM message m WHERE m.chat_id = r.chat_id AND m.direction = 'inbound' AND m.posted_at < r.received_at) AS inbound_before
    FROM referral r
  ) h
  WHERE referral.id = h.id`;

/**
 * The ref's parsed parts and each referral's place in its chat's history, beside the raw referral. Existing rows
 * are filled in: parts with the default grammar (`refgraph reparse` applies a REF_GRAMMAR template), history from
 * the stored referrals and messages.
 */
export class AddReferralAnalytics1795564800000 implements MigrationInterface {
  name = "AddReferralAnalytics1795564800000";

  async up(queryRunner: QueryRunner): Promise<void> {
    // The default as each database spells `false` (SQLite has no boolean type), so the schema matches the entity.
    const no = queryRunner.connection.options.type === "postgres" ? "false" : "0";
    await queryRunner.addColumns("referral", [
      new TableColumn({ name: "campaign", type: "text", isNullable: true }),
      new TableColumn({ name: "channel", type: "text", isNullable: true }),
      new TableColumn({ name: "variant", type: "text", isNullable: true }),
      new TableColumn({ name: "tags", type: "text", isNullable: true }),
      new TableColumn({ name: "first_reply_at", type: "bigint", isNullable: true }),
      new TableColumn({ name: "last_touch_reply_at", type: "bigint", isNullable: true }),
      new TableColumn({ name: "is_first_touch", type: "boolean", isNullable: false, default: no }),
      new TableColumn({ name: "is_new_chat", type: "boolean", isNullable: false, default: no }),
    ]);
    await reparseReferrals(queryRunner.manager, parseKeyValueRef);
    await queryRunner.query(HISTORY);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ["campaign", "channel", "variant", "tags", "first_reply_at", "last_touch_reply_at", "is_first_touch", "is_new_chat"])
      await queryRunner.dropColumn("referral", column);
  }
}
