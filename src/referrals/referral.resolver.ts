import { Arg, Args, Ctx, Field, FieldResolver, InputType, Query, Resolver, Root } from "type-graphql";
import { Chat } from "../chats/chat.entity";
import { badUserInput } from "../errors";
import { Connection, connectionComplexity, PageArgs } from "../graphql/connection";
import { Context } from "../graphql/context";
import { isNewChat } from "./referral-order";
import { Referral } from "./referral.entity";

@InputType()
class ReferralFilter {
  @Field({ nullable: true })
  ref?: string;

  @Field({ nullable: true, description: "Refs starting with this text (case-sensitive)." })
  refPrefix?: string;

  @Field({ nullable: true })
  source?: string;

  @Field({ nullable: true })
  platform?: string;

  @Field({ nullable: true })
  chatId?: string;

  @Field(() => Date, { nullable: true, description: "receivedAt at or after this time." })
  from?: Date;

  @Field(() => Date, { nullable: true, description: "receivedAt before this time." })
  to?: Date;
}

export const ReferralConnection = Connection(Referral, "Referral");

@Resolver(() => Referral)
export class ReferralResolver {
  @Query(() => ReferralConnection, { description: "Newest receivedAt first.", complexity: connectionComplexity })
  async referrals(@Args() page: PageArgs, @Arg("filter", () => ReferralFilter, { nullable: true }) filter: ReferralFilter | undefined, @Ctx() ctx: Context) {
    if (filter?.from && filter.to && filter.from >= filter.to) throw badUserInput("filter.from", "must be before filter.to");
    return Object.assign(new ReferralConnection(), await ctx.services.referrals.list(filter ?? {}, page));
  }

  @FieldResolver(() => Chat)
  async chat(@Root() referral: Referral, @Ctx() ctx: Context) {
    return ctx.loaders.chat.load(referral.chatId);
  }

  @FieldResolver(() => String, { nullable: true })
  async platform(@Root() referral: Referral, @Ctx() ctx: Context) {
    return (await ctx.loaders.chat.load(referral.chatId))?.platform ?? null;
  }

  @FieldResolver(() => Boolean, { description: "True when this referral is the chat's first activity: no earlier referral or inbound message, by time." })
  async isNewChat(@Root() referral: Referral, @Ctx() ctx: Context) {
    const chat = await ctx.loaders.chat.load(referral.chatId);
    if (!chat?.firstReferralRef || !chat.firstReferralAt) return false;
    return isNewChat(referral, { ref: chat.firstReferralRef, receivedAt: chat.firstReferralAt }, chat.firstInboundAt);
  }
}
