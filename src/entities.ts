import { ApiKey } from "./auth/api-key.entity";
import { Chat } from "./chats/chat.entity";
import { Greeting } from "./greetings/greeting.entity";
import { GreetingRule } from "./greetings/greeting-rule.entity";
import { Message } from "./chats/message.entity";
import { Referral } from "./referrals/referral.entity";
import { WebhookEvent } from "./webhooks/webhook-event.entity";

/** Every table's entity, handed to the data source by whoever opens the database. */
export const entities = [Chat, Referral, Message, WebhookEvent, ApiKey, Greeting, GreetingRule];
