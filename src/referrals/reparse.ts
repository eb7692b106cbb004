import { EntityManager } from "typeorm";
import { parameterMarker, typedValues } from "../db/bulk-insert";
import { stampSql } from "../analytics/copy-changes";
import { RefGrammar, storedParts } from "./ref-grammar";

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

/**
 * Parses every stored ref again with `grammar` and rewrites the parts that changed, a batch at a time (each in
 * the caller's transaction when there is one). The raw ref is never touched.
 */
export async function reparseReferrals(manager: EntityManager, grammar: RefGrammar): Promise<{ scanned: number; changed: number }> {
  const marker = parameterMarker(manager.connection);
  let scanned = 0;
  let changed = 0;
  for (let after = 0; ; ) {
    const rows: StoredRow[] = await manager.query(
      `SELECT id, ref, campaign, channel, variant, tags FROM referral WHERE id > ${marker(1)} ORDER BY id LIMIT ${BATCH}`,
      [after],
    );
    if (rows.length === 0) return { scanned, changed };
    scanned += rows.length;
    after = Number(rows[rows.length - 1].id);
    const updates = rows.flatMap((row) => {
      const parts = storedParts(grammar(row.ref));
      return PARTS.some((part) => parts[part] !== row[part]) ? [[Number(row.id), ...PARTS.map((part) => parts[part])]] : [];
    });
    if (updates.length === 0) continue;
    const values = typedValues(manager.connection, ["integer", ...PARTS.map(() => "text")], updates);
    await manager.query(
      `UPDATE referral SET ${PARTS.map((part, i) => `${part} = v.column${i + 2}`).join(", ")}, revision = ${stampSql(manager)}
       FROM (${values.sql}) AS v WHERE referral.id = v.column1`,
      values.parameters,
    );
    changed += updates.length;
  }
}
