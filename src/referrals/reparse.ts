import { EntityManager } from "typeorm";
import { parameterMarker } from "../db/bulk-insert";
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
    let n = 0;
    // The casts type the VALUES columns on PostgreSQL (its parameters are untyped); SQLite accepts them as they are.
    const tuples = updates.map((values) => `(${values.map((_, i) => (i === 0 ? `CAST(${marker(++n)} AS integer)` : `CAST(${marker(++n)} AS text)`)).join(", ")})`);
    await manager.query(
      `UPDATE referral SET ${PARTS.map((part, i) => `${part} = v.column${i + 2}`).join(", ")}
       FROM (VALUES ${tuples.join(", ")}) AS v WHERE referral.id = v.column1`,
      updates.flat(),
    );
    changed += updates.length;
  }
}
