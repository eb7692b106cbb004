import { DataSource } from "typeorm";
import { insertStatements, overwriteOnConflict } from "../db/bulk-insert";
import { SqlStatement } from "../db/sql-script";
import { Bindings, rowsById } from "../db/rows";
import { ChatFacts, MessageFacts } from "../webhooks/envelope";
import { mergeChat } from "./chat-state";
import { Chat } from "./chat.entity";
import { mergeMessage } from "./message-state";
import { Message } from "./message.entity";

// Chats' part of ingesting a batch of webhooks: the chat and message rows its facts fold into.

export const storedChats = (bindings: Bindings, ids: string[]) => rowsById(bindings, Chat, ids);
export const storedMessages = (bindings: Bindings, ids: string[]) => rowsById(bindings, Message, ids);

export interface ChatPlan {
  /** The touched chats as the batch leaves them, each written whole. */
  rows: Chat[];
  /** Stored chats whose platform the batch changed. */
  replatformed: string[];
}

/** Folds the batch's facts into the stored chats (`stored` as read, left untouched). */
export function planChats(stored: Map<string, Chat>, facts: ChatFacts[]): ChatPlan {
  const rows = fold(stored, facts, mergeChat);
  const replatformed = rows.filter((chat) => stored.has(chat.id) && stored.get(chat.id)?.platform !== chat.platform).map((chat) => chat.id);
  return { rows, replatformed };
}

export const planMessages = (stored: Map<string, Message>, facts: MessageFacts[]): Message[] => fold(stored, facts, mergeMessage);

export const chatStatements = (connection: DataSource, chats: Chat[], messages: Message[]): SqlStatement[] => [
  ...insertStatements(connection, Chat, chats, overwriteOnConflict(connection, Chat, "id")),
  ...insertStatements(connection, Message, messages, overwriteOnConflict(connection, Message, "id")),
];

/** Folds each fact into its row with `merge`, in order; the rows that changed, once each. */
function fold<E, F extends { id: string }>(stored: Map<string, E>, facts: F[], merge: (current: E | null, fact: F) => E): E[] {
  const rows = new Map<string, E>();
  for (const fact of facts) rows.set(fact.id, merge(rows.get(fact.id) ?? stored.get(fact.id) ?? null, fact));
  return [...rows.values()];
}
