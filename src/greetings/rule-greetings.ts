import { randomUUID } from "node:crypto";
import { EntityManager } from "typeorm";
import { Chat } from "../chats/chat.entity";
import { maySend } from "../chats/messaging-window";
import { parameterMarker } from "../db/bulk-insert";
import { RefGrammar } from "../referrals/ref-grammar";
import { inboundTimes } from "../referrals/referral-history";
import { Referral } from "../referrals/referral.entity";
import { ChatFacts } from "../webhooks/envelope";
import { GreetingStatus } from "./greeting.entity";
import { GreetingRule } from "./greeting-rule.entity";
import { chooseRule, GreetingTrigger, renderTemplate } from "./rule-matching";

/**
 * Queues the automated greetings a batch of webhooks calls for, in the batch's transaction, so a greeting due is
 * never lost once the webhook is acknowledged; the worker sends it. ON_REFERRAL: a referral new in this batch that
 * is its chat's latest. ON_FIRST_MESSAGE: a chat's latest referral whose first reply is one of this batch's inbound
 * messages. At most one automated greeting per referral (its key is `rule:<referral id>`); when the messaging window
 * is closed it is recorded SKIPPED with the reason instead.
 *
 * `rules` are the enabled rules, `changed` the referral rows the batch wrote (new ones have no id yet), `chats` the
 * touched chats as the batch leaves them, `facts` the batch's chat facts; templates get the ref's parts by `grammar`.
 */
export async function queueRuleGreetings(
  manager: EntityManager,
  rules: GreetingRule[],
  changed: Referral[],
  chats: Chat[],
  facts: ChatFacts[],
  grammar: RefGrammar,
  now: Date,
): Promise<void> {
  if (rules.length === 0) return;
  const chatById = new Map(chats.map((chat) => [chat.id, chat]));
  const latest = changed.filter((referral) => {
    const chat = chatById.get(referral.chatId);
    return chat?.referralRef === referral.ref && chat.referralReceivedAt?.getTime() === referral.receivedAt.getTime();
  });
  if (latest.length === 0) return;
  const inbound = inboundTimes(facts);

  const marker = parameterMarker(manager.connection);
  for (const referral of latest) {
    const chat = chatById.get(referral.chatId) as Chat;
    const triggers = [
      ...(referral.id === undefined ? [GreetingTrigger.ON_REFERRAL] : []),
      ...(referral.firstReplyAt && inbound.get(chat.id)?.includes(referral.firstReplyAt.getTime()) ? [GreetingTrigger.ON_FIRST_MESSAGE] : []),
    ];
    for (const trigger of triggers) {
      const rule = chooseRule(
        rules.filter((candidate) => candidate.trigger === trigger),
        { ref: referral.ref, platform: chat.platform },
      );
      if (!rule) continue;
      const window = maySend(chat.referralReceivedAt, chat.lastInboundAt, false, now);
      const { campaign, channel, variant } = grammar(referral.ref);
      const body = renderTemplate(rule.body, { ref: referral.ref, campaign, channel, variant, "participant.name": chat.participantName });
      const [status, error] = window.ok
        ? [GreetingStatus.QUEUED, null]
        : [GreetingStatus.SKIPPED, `rule '${rule.name}': the messaging window closed at ${window.expiresAt?.toISOString()}`];
      await manager.query(
        `INSERT INTO greeting (id, chat_id, referral_id, idempotency_key, body, status, attempts, error, next_attempt_at, created_at)
         SELECT ${marker(1)}, r.chat_id, r.id, 'rule:' || r.id, ${marker(2)}, ${marker(3)}, 0, ${marker(4)}, ${marker(5)}, ${marker(6)}
         FROM referral r WHERE r.chat_id = ${marker(7)} AND r.ref = ${marker(8)} AND r.received_at = ${marker(9)}
         ON CONFLICT (chat_id, idempotency_key) DO NOTHING`,
        [randomUUID(), body, status, error, window.ok ? now.getTime() : null, now.getTime(), referral.chatId, referral.ref, referral.receivedAt.getTime()],
      );
    }
  }
}
