import { EntityManager, MigrationInterface, QueryRunner, TableColumn } from "typeorm";

// A migration imports no live code, so what it does never changes: the default grammar and the fill-in below are
// copies of src/referrals/ref-grammar.ts (parseKeyValueRef, storedParts) and src/referrals/reparse.ts as they were
// when this migration landed.

interface ParsedRef {
  campaign: string | null;
  channel: string | null;
  variant: string | null;
  tags: { key: string; value: string }[];
}

const PART_OF: Record<string, keyof Omit<ParsedRef, "tags">> = { c: "campaign", campaign: "campaign", ch: "channel", channel: "channel", v: "variant", variant: "variant" };
const SEPARATOR = "--";

function parseKeyValueRef(ref: string): ParsedRef {
  const parsed: ParsedRef = { campaign: null, channel: null, variant: null, tags: [] };
  const loose: string[] = [];
  for (const segment of ref.split(SEPARATOR)) {
    const at = segment.indexOf("=");
    if (at > 0 && at < segment.length - 1) {
      const key = segment.slice(0, at);
      const value = segment.slice(at + 1);
      const part = PART_OF[key.toLowerCase()];
      if (part && parsed[part] === null) parsed[part] = value;
      else parsed.tags.push({ key, value });
    } else loose.push(segment);
  }
  if (loose.length > 0) {
    if (parsed.campaign === null) parsed.campaign = loose.join(SEPARATOR);
    else parsed.tags.push(...loose.map((value) => ({ key: "segment", value })));
  }
  return parsed;
}

const BATCH = 2_000;
const PARTS = ["campaign", "channel", "variant", "tags"] as const;

interface StoredRow {
  id: number;
  ref: string;
  campaign: string | null;
  channel: string | null;
  variant: string | null;
  tags: string | null;
}

/** Parses every stored ref with the default grammar and writes the parts that changed, a batch at a time. */
async function fillParts(manager: EntityManager): Promise<void> {
  const marker = manager.connection.options.type === "postgres" ? (n: number) => `$${n}` : () => "?";
  const types = ["integer", ...PARTS.map(() => "text")];
  for (let after = 0; ; ) {
    const rows: StoredRow[] = await manager.query(`SELECT id, ref, campaign, channel, variant, tags FROM referral WHERE id > ${marker(1)} ORDER BY id LIMIT ${BATCH}`, [after]);
    if (rows.length === 0) return;
    after = Number(rows[rows.length - 1].id);
    const updates = rows.flatMap((row) => {
      const { campaign, channel, variant, tags } = parseKeyValueRef(row.ref);
      const parts = { campaign, channel, variant, tags: tags.length > 0 ? JSON.stringify(tags) : null };
      return PARTS.some((part) => parts[part] !== row[part]) ? [[Number(row.id), ...PARTS.map((part) => parts[part])]] : [];
    });
    if (updates.length === 0) continue;
    const parameters: unknown[] = [];
    const tuples = updates.map((update) => `(${update.map((value, i) => `CAST(${marker(parameters.push(value))} AS ${types[i]})`).join(", ")})`);
    await manager.query(
      `UPDATE referral SET ${PARTS.map((part, i) => `${part} = v.column${i + 2}`).join(", ")} FROM (VALUES ${tuples.join(", ")}) AS v WHERE referral.id = v.column1`,
      parameters,
    );
  }
}

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
    await fillParts(queryRunner.manager);
    await queryRunner.query(HISTORY);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ["campaign", "channel", "variant", "tags", "first_reply_at", "last_touch_reply_at", "is_first_touch", "is_new_chat"])
      await queryRunner.dropColumn("referral", column);
  }
}
