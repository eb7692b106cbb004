import { DataSource, EntityManager } from "typeorm";
import { AffectedReferrals, affectedStatements, transactionStamp } from "../analytics/copy-changes";
import { Chat } from "../chats/chat.entity";
import { ChatPlan, chatStatements, planChats, planMessages, storedChats, storedMessages } from "../chats/chat.ingest";
import { Message } from "../chats/message.entity";
import { databaseVersion } from "../db/busy";
import { SqlStatement } from "../db/sql-script";
import { readTogether } from "../db/rows";
import { enabledRules, GreetingPlan, greetingStatements, planRuleGreetings } from "../greetings/greeting.ingest";
import { GreetingRule } from "../greetings/greeting-rule.entity";
import { RefGrammar } from "../referrals/ref-grammar";
import { inboundTimes, loadHistory, planReferrals, ReferralChanges, referralStatements, StoredHistory } from "../referrals/referral.ingest";
import { ChatFacts, Interpretation } from "./envelope";
import { Delivery, eventStatuses, InboxPlan, inboxStatements, planInbox } from "./webhook-event.ingest";
import { WebhookEventStatus } from "./webhook-event.entity";

// One batch of webhook deliveries, in one transaction: load what is stored, plan every row to write (pure), write.
// Each capability brings its own loader, planner and statements (its *.ingest.ts); this only sequences them.

/** What the batch's plan needs from the database. */
export interface Loaded {
  events: Map<string, WebhookEventStatus>;
  chats: Map<string, Chat>;
  messages: Map<string, Message>;
  history: StoredHistory;
  rules: GreetingRule[];
  /** The transaction's stamp for the referrals it changes (copy-changes.ts). */
  revision: number;
  /** The database's version these reads saw (databaseVersion). */
  readAt: number;
}

export interface BatchPlan {
  inbox: InboxPlan;
  chats: ChatPlan;
  messages: Message[];
  referrals: ReferralChanges;
  greetings: GreetingPlan;
  analytics: AffectedReferrals;
}

export interface PlanOptions {
  grammar: RefGrammar;
  storeMessageBodies: boolean;
  /** The time greeting rules check the messaging window at. */
  now: Date;
}

const chatFactsOf = (interpretations: Interpretation[]): ChatFacts[] => interpretations.flatMap((i) => (i.chat ? [i.chat] : []));

/**
 * One statement reads what every batch needs (readTogether). Only the referral history waits for the stored chats,
 * which tell which chats need it; most batches need none.
 */
export async function loadBatch(manager: EntityManager, batch: Delivery[], interpretations: Interpretation[]): Promise<Loaded> {
  const facts = chatFactsOf(interpretations);
  const connection = manager.connection;
  const [readAt, revision, rules, events, chats, messages] = await readTogether(manager, (bindings) => [
    databaseVersion(connection),
    transactionStamp(connection),
    enabledRules(connection),
    eventStatuses(bindings, batch.map((d) => d.envelope.id)),
    storedChats(bindings, facts.map((fact) => fact.id)),
    storedMessages(bindings, interpretations.flatMap((i) => (i.message ? [i.message.id] : []))),
  ] as const);
  const history = await loadHistory(manager, facts, chats);
  return { events, chats, messages, history, rules, revision, readAt };
}

/** Every row the batch writes, and each delivery's answer; reads nothing. */
export function planBatch(batch: Delivery[], interpretations: Interpretation[], loaded: Loaded, options: PlanOptions): BatchPlan {
  const inbox = planInbox(batch, interpretations, loaded.events, options.storeMessageBodies);
  const facts = chatFactsOf(inbox.applied);
  const messageFacts = inbox.applied.flatMap((i) => (i.message ? [i.message] : []));
  const chats = planChats(loaded.chats, facts);
  const chatsAfter = new Map(chats.rows.map((chat) => [chat.id, chat]));
  const referrals = planReferrals(loaded.history, facts, chatsAfter, options.grammar);
  const settle = [...new Set(messageFacts.filter((m) => m.direction === "outbound").map((m) => m.id))];
  return {
    inbox,
    chats,
    messages: planMessages(loaded.messages, messageFacts),
    referrals,
    greetings: { queue: planRuleGreetings(loaded.rules, referrals.rows, chatsAfter, inboundTimes(facts), options.grammar, options.now), settle },
    analytics: { ofChats: chats.replatformed, greetedInChats: [...new Set(messageFacts.map((m) => m.chatId))], ofGreetingMessages: settle },
  };
}

/**
 * Every statement that writes the plan, in order; the transaction runs them one after another (on SQLite as one
 * script, see plannedWriteTransaction) and stops at the first that fails. Referrals before greetings: the order
 * every writer locks them in.
 */
export const batchStatements = (connection: DataSource, plan: BatchPlan, revision: number): SqlStatement[] => [
  ...inboxStatements(connection, plan.inbox),
  ...chatStatements(connection, plan.chats.rows, plan.messages),
  ...referralStatements(connection, plan.referrals, revision),
  ...affectedStatements(connection, plan.analytics, revision),
  ...greetingStatements(connection, plan.greetings),
];
