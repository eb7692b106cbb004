import { Arg, Args, Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from "type-graphql";
import { Chat } from "../chats/chat.entity";
import { badUserInput } from "../errors";
import { Connection, PageArgs } from "../graphql/connection";
import { Context } from "../graphql/context";
import { ParsedRef, partsOf } from "./ref-grammar";
import { Referral } from "./referral.entity";
import { ReferralFilter } from "./referral-filter";

@ObjectType("RefTag")
class RefTagType {
  @Field()
  key: string;

  @Field()
  value: string;
}

@ObjectType("ParsedRef")
export class ParsedRefType {
  @Field(() => String, { nullable: true })
  campaign: string | null;

  @Field(() => String, { nullable: true })
  channel: string | null;

  @Field(() => String, { nullable: true })
  variant: string | null;

  @Field(() => [RefTagType])
  tags: RefTagType[];
}

export const ReferralConnection = Connection(Referral, "Referral");

@Resolver(() => Referral)
export class ReferralResolver {
  @Query(() => ReferralConnection, { description: "Newest receivedAt first." })
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

  @FieldResolver(() => ParsedRefType, { description: "The ref's campaign, channel, variant and tags under REF_GRAMMAR." })
  parsed(@Root() referral: Referral): ParsedRef {
    return partsOf(referral);
  }
}
