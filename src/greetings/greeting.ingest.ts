import { randomUUID } from "node:crypto";
import { DataSource } from "typeorm";
import { Chat } from "../chats/chat.entity";
import { maySend } from "../chats/messaging-window";
import { typedValues } from "../db/bulk-insert";
import { SqlStatement, statement } from "../db/sql-script";
import { entityRows, Read } from "../db/rows";
import { RefGrammar } from "../referrals/ref-grammar";
import { Referral } from "../referrals/referral.entity";
import { GreetingStatus } from "./greeting.entity";
import { GreetingRule } from "./greeting-rule.entity";
import { chooseRule, GreetingTrigger, renderTemplate } from "./rule-matching";
import { settleStatements } from "./settlement";

// Greetings' part of ingesting a batch of webhooks: the automated greetings it calls for, and the greetings its
// message events settle.

/** An automated greeting to queue for the stored referral (chat, ref, time). */
export interface RuleGreeting {
  chatId: string;
  ref: string;
  receivedAt: Date;
  body: string;
  status: GreetingStatus.QUEUED | GreetingStatus.SKIPPED;
  error: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

export interface GreetingPlan {
  queue: RuleGreeting[];
  /** Outbound messages whose PENDING greetings may settle. */
  settle: string[];
}

export const enabledRules = (connection: DataSource): Read<GreetingRule[]> => entityRows(connection, GreetingRule, "enabled = TRUE");

/**
 * The automated greetings a batch calls for, so one due is queued in the webhook's own transaction and never lost
 * once it is acknowledged; the worker sends it. ON_REFERRAL: a referral new in this batch that is its chat's latest.
 * ON_FIRST_MESSAGE: a chat's latest referral whose first reply is one of this batch's inbound messages
 * (`inbound`: each chat's inbound message times in the batch). At most one automated greeting per referral (its key
 * is `rule:<referral id>`); with the messaging window closed it is recorded SKIPPED with the reason.
 * `written` are the referral rows the batch writes (a new one has no id yet), `chats` the touched chats as the batch
 * leaves them; templates get the ref's parts by `grammar`.
 */
export function planRuleGreetings(
  rules: GreetingRule[],
  written: Referral[],
  chats: Map<string, Chat>,
  inbound: Map<string, number[]>,
  grammar: RefGrammar,
  now: Date,
): RuleGreeting[] {
  if (rules.length === 0) return [];
  const queue: RuleGreeting[] = [];
  for (const referral of written) {
    const chat = chats.get(referral.chatId);
    if (!chat || chat.referralRef !== referral.ref || chat.referralReceivedAt?.getTime() !== referral.receivedAt.getTime()) continue;
    const triggers = [
      ...(referral.id === undefined ? [GreetingTrigger.ON_REFERRAL] : []),
      ...(referral.firstReplyAt && inbound.get(chat.id)?.includes(referral.firstReplyAt.getTime()) ? [GreetingTrigger.ON_FIRST_MESSAGE] : []),
    ];
    // The first trigger with a matching rule: the others would share its key.
    const rule = triggers
      .map((trigger) => chooseRule(rules.filter((candidate) => candidate.trigger === trigger), { ref: referral.ref, platform: chat.platform }))
      .find((chosen) => chosen !== null);
    if (rule) {
      const window = maySend(chat.referralReceivedAt, chat.lastInboundAt, false, now);
      const { campaign, channel, variant } = grammar(referral.ref);
      queue.push({
        chatId: chat.id,
        ref: referral.ref,
        receivedAt: referral.receivedAt,
        body: renderTemplate(rule.body, { ref: referral.ref, campaign, channel, variant, "participant.name": chat.participantName }),
        status: window.ok ? GreetingStatus.QUEUED : GreetingStatus.SKIPPED,
        error: window.ok ? null : `rule '${rule.name}': the messaging window closed at ${window.expiresAt?.toISOString()}`,
        nextAttemptAt: window.ok ? now : null,
        createdAt: now,
      });
    }
  }
  return queue;
}

/** Settles, then queues, in one statement each; the referrals come first (see settleStatuses). */
export function greetingStatements(connection: DataSource, plan: GreetingPlan): SqlStatement[] {
  const settle = settleStatements(connection, plan.settle);
  if (plan.queue.length === 0) return settle;
  const values = typedValues(
    connection,
    ["text", "text", "text", "text", "bigint", "bigint", "text", "text", "bigint"],
    plan.queue.map((g) => [randomUUID(), g.body, g.status, g.error, g.nextAttemptAt?.getTime() ?? null, g.createdAt.getTime(), g.chatId, g.ref, g.receivedAt.getTime()]),
  );
  // The referrals were written in this transaction: the greeting takes its referral's id from the stored row.
  return [
    ...settle,
    statement(
      `INSERT INTO greeting (id, chat_id, referral_id, idempotency_key, body, status, attempts, error, next_attempt_at, created_at)
     SELECT v.column1, r.chat_id, r.id, 'rule:' || r.id, v.column2, v.column3, 0, v.column4, v.column5, v.column6
     FROM (${values.sql}) AS v JOIN referral r ON r.chat_id = v.column7 AND r.ref = v.column8 AND r.received_at = v.column9
     WHERE TRUE ON CONFLICT (chat_id, idempotency_key) DO NOTHING`,
      values.parameters,
    ),
  ];
}
