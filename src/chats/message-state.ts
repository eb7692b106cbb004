import { MessageFacts } from "../webhooks/envelope";
import { earliest } from "./chat-state";
import { Message } from "./message.entity";

// How far along its life an outbound message is: a status event never moves a message back, whatever the arrival order.
const PROGRESS: Record<string, number> = { pending: 0, failed_waiting_for_retry: 1, sent: 2, delivered: 3, read: 4, failed: 5, received: 6 };

/** Folds one message event into the stored message. */
export function mergeMessage(current: Message | null, facts: MessageFacts): Message {
  const message = Object.assign(new Message(), current ?? { id: facts.id, sentAt: null, deliveredAt: null, readAt: null, failedAt: null });
  message.chatId = facts.chatId;
  message.direction = current?.direction === "inbound" ? "inbound" : facts.direction;
  if (!current || PROGRESS[facts.status] > PROGRESS[current.status]) message.status = facts.status;
  message.body = facts.body ?? current?.body ?? null;
  message.postedAt = earliest(current?.postedAt, facts.postedAt);
  message.tappedAction = facts.tappedAction ?? current?.tappedAction ?? null;
  message.externalId = facts.externalId ?? current?.externalId ?? null;
  message.errorMessage = facts.errorMessage ?? current?.errorMessage ?? null;
  const at = facts.statusAt;
  if (facts.status === "sent") message.sentAt = earliest(message.sentAt, at);
  if (facts.status === "delivered") message.deliveredAt = earliest(message.deliveredAt, at);
  if (facts.status === "read") message.readAt = earliest(message.readAt, at);
  if (facts.status === "failed") message.failedAt = earliest(message.failedAt, at);
  return message;
}
