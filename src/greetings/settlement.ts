import { DataSource, EntityManager } from "typeorm";
import { reportAffected } from "../analytics/copy-changes";
import { parameterList } from "../db/bulk-insert";
import { runInOrder, SqlStatement, statement } from "../db/sql-script";
import { writeTransaction } from "../db/busy";
import { GreetingStatus } from "./greeting.entity";

const ENDED = "m.status IN ('sent', 'delivered', 'read', 'failed')";

/**
 * Settles the PENDING greetings sent as these Postproxy messages once a message has reached its end, as
 * `message.sent` (then delivered, read) or `message.failed` recorded it: PUBLISHED, or FAILED with Postproxy's reason.
 * The caller has reported their referrals to the analytics copy first: referrals before greetings is the order
 * ingestion takes its locks in, so on PostgreSQL two writers never wait for each other in a cycle.
 */
export const settleStatuses = (manager: EntityManager, messageIds: string[]): Promise<void> => runInOrder(manager, settleStatements(manager.connection, messageIds));

/** The statement settleStatuses runs (none for no messages). */
export function settleStatements(connection: DataSource, messageIds: string[]): SqlStatement[] {
  if (messageIds.length === 0) return [];
  return [
    statement(
      `UPDATE greeting SET
       status = CASE WHEN m.status = 'failed' THEN '${GreetingStatus.FAILED}' ELSE '${GreetingStatus.PUBLISHED}' END,
       error = CASE WHEN m.status = 'failed' THEN COALESCE(m.error_message, 'Postproxy reported that the message failed') ELSE greeting.error END
     FROM message m WHERE m.id = greeting.postproxy_message_id AND greeting.status = '${GreetingStatus.PENDING}' AND ${ENDED}
       AND m.id IN (${parameterList(connection, messageIds.length)})`,
      messageIds,
    ),
  ];
}

/**
 * Settles every PENDING greeting whose message has ended (the worker's sweep, on the writer): it covers a webhook that
 * committed while the greeting's attempt was still recording its message id.
 */
export async function settleEndedGreetings(writer: DataSource): Promise<void> {
  await writeTransaction(writer, async (manager) => {
    const ended: { id: string }[] = await manager.query(
      `SELECT m.id FROM greeting JOIN message m ON m.id = greeting.postproxy_message_id WHERE greeting.status = '${GreetingStatus.PENDING}' AND ${ENDED}`,
    );
    const messageIds = ended.map((row) => row.id);
    await reportAffected(manager, { ofGreetingMessages: messageIds });
    await settleStatuses(manager, messageIds);
  });
}
