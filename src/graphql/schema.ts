import { GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { CampaignStatsResolver } from "../analytics/campaign-stats.resolver";
import { ChatResolver } from "../chats/chat.resolver";
import { ChatGreetingsResolver, GreetingResolver } from "../greetings/greeting.resolver";
import { GreetingRuleResolver } from "../greetings/greeting-rule.resolver";
import { ReferralResolver } from "../referrals/referral.resolver";
import { WebhookEventResolver } from "../webhooks/webhook-event.resolver";

export function buildRefgraphSchema(): Promise<GraphQLSchema> {
  // Arguments are checked by the services, which name the argument in a BAD_USER_INPUT error.
  return buildSchema({ resolvers: [CampaignStatsResolver, ChatResolver, ChatGreetingsResolver, GreetingResolver, GreetingRuleResolver, ReferralResolver, WebhookEventResolver], validate: false });
}

/** The SDL committed as schema/schema.graphql, sorted so diffs show only real changes. */
export async function printRefgraphSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await buildRefgraphSchema())) + "\n";
}
