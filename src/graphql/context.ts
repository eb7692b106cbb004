import DataLoader from "dataloader";
import { CampaignStatsService } from "../analytics/campaign-stats.service";
import { ApiKeyService, Caller } from "../auth/api-key.service";
import { Chat } from "../chats/chat.entity";
import { ChatService } from "../chats/chat.service";
import { GreetingService } from "../greetings/greeting.service";
import { GreetingRuleService } from "../greetings/greeting-rule.service";
import { Referral } from "../referrals/referral.entity";
import { ReferralPoint } from "../referrals/referral-order";
import { ChatReferralsKey, ReferralService } from "../referrals/referral.service";
import { WebhookEventService } from "../webhooks/webhook-event.service";
import { Page } from "./connection";

export interface Services {
  chats: ChatService;
  referrals: ReferralService;
  campaignStats: CampaignStatsService;
  webhookEvents: WebhookEventService;
  apiKeys: ApiKeyService;
  greetings: GreetingService;
  greetingRules: GreetingRuleService;
}

export interface Context {
  /** Null when no valid key was sent; requests then fail with UNAUTHENTICATED unless GraphQL is open. */
  caller: Caller | null;
  /** Whose query-cost budget the request draws on: the API key's, or with open access the client address's; null without a caller. */
  costKey: string | null;
  now: Date;
  services: Services;
  loaders: ReturnType<typeof createLoaders>;
}

/** Per-request batching: every chat or referral a page of results needs is fetched in one query per kind. */
export function createLoaders(services: Services) {
  return {
    chat: new DataLoader<string, Chat | null>((ids) => services.chats.byIds(ids)),
    referralById: new DataLoader<number, Referral | null>((ids) => services.referrals.byIds(ids)),
    referralAt: new DataLoader<ReferralPoint & { chatId: string }, Referral | null, string>((points) => services.referrals.byPoints(points), {
      cacheKeyFn: (p) => `${p.chatId}\u0000${p.ref}\u0000${p.receivedAt.getTime()}`,
    }),
    chatReferrals: new DataLoader<ChatReferralsKey, Page<Referral>, string>((keys) => services.referrals.pagesForChats(keys), {
      cacheKeyFn: (k) => JSON.stringify([k.chatId, k.first, k.after]),
    }),
  };
}
