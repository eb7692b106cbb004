import { DataSource, EntityManager } from "typeorm";
import { parameterMarker } from "../db/bulk-insert";
import { runInOrder, SqlStatement, statement } from "../db/sql-script";
import { revisionSql } from "../db/revision";
import { Read } from "../db/rows";
import { GreetingStatus } from "../greetings/greeting.entity";

// The one owner of what changed for the analytics copy (ReferralIndex). The copy holds, for each referral, its own
// columns and facts kept elsewhere: its chat's platform, its greetings and their replies. It catches up by the
// referrals' `revision` (src/db/revision.ts), so every write that changes any of these goes through here: a write of
// referral rows stamps them (`transactionStamp`, or `stampSql` inside one statement), every other write tells
// `reportAffected` which referrals it touched.

/** The referrals a write changed for the copy without writing their rows. */
export interface AffectedReferrals {
  /** Every referral of these chats: their platform changed. */
  ofChats?: string[];
  /** Of these chats' greetings that are or may become PUBLISHED: a message in the chat may be one's reply, or its message. */
  greetedInChats?: string[];
  /** Of these greetings: an attempt's outcome was recorded. */
  ofGreetings?: string[];
  /** Of the greetings sent as these Postproxy messages: their status settled. */
  ofGreetingMessages?: string[];
}

/** The stamp one write transaction puts on every referral it changes, read with its other reads. */
export const transactionStamp = (connection: DataSource): Read<number> => ({ sql: `SELECT ${revisionSql(connection)}`, decode: Number });

/** The stamp as SQL, for a transaction that stamps in one statement. */
export const stampSql = (manager: EntityManager): string => revisionSql(manager.connection);

/** Restamps the referrals `affected` names, in one statement; `stamp` is the transaction's (default: stampSql). */
export const reportAffected = (manager: EntityManager, affected: AffectedReferrals, stamp: number | string = stampSql(manager)): Promise<void> =>
  runInOrder(manager, affectedStatements(manager.connection, affected, stamp));

/** The statement reportAffected runs, for a transaction that writes its statements together (none when nothing was affected). */
export function affectedStatements(connection: DataSource, affected: AffectedReferrals, stamp: number | string): SqlStatement[] {
  const marker = parameterMarker(connection);
  const parameters: string[] = [];
  const list = (ids: string[]) => ids.map((id) => marker(parameters.push(id))).join(", ");
  const sources: string[] = [];
  const { ofChats = [], greetedInChats = [], ofGreetings = [], ofGreetingMessages = [] } = affected;
  if (ofChats.length > 0) sources.push(`SELECT id FROM referral WHERE chat_id IN (${list(ofChats)})`);
  if (greetedInChats.length > 0)
    sources.push(
      `SELECT referral_id FROM greeting WHERE chat_id IN (${list(greetedInChats)}) AND status NOT IN ('${GreetingStatus.FAILED}', '${GreetingStatus.SKIPPED}')`,
    );
  if (ofGreetings.length > 0) sources.push(`SELECT referral_id FROM greeting WHERE id IN (${list(ofGreetings)})`);
  if (ofGreetingMessages.length > 0) sources.push(`SELECT referral_id FROM greeting WHERE postproxy_message_id IN (${list(ofGreetingMessages)})`);
  if (sources.length === 0) return [];
  return [statement(`UPDATE referral SET revision = ${stamp} WHERE id IN (${sources.join(" UNION ALL ")})`, parameters)];
}
