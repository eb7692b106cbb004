import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Mutation, Query, Resolver, Root } from "type-graphql";
import { Chat } from "../chats/chat.entity";
import { Connection, PageArgs } from "../graphql/connection";
import { Context } from "../graphql/context";
import { Referral } from "../referrals/referral.entity";
import { Greeting, GreetingTag } from "./greeting.entity";
import { GreetingFilter } from "./greeting-filter";
import { MAX_BODY_LENGTH } from "./greeting.service";

@InputType("SendGreetingInput")
class SendGreetingInput {
  @Field(() => ID)
  chatId: string;

  @Field({ description: `1 to ${MAX_BODY_LENGTH} characters.` })
  body: string;

  @Field({ nullable: true, description: "Calls with the same key for a chat return the same greeting. Default: one per (chat, latest referral)." })
  idempotencyKey?: string;

  @Field(() => GreetingTag, { nullable: true })
  tag?: GreetingTag;
}

const GreetingConnection = Connection(Greeting, "Greeting");

@Resolver(() => Greeting)
export class GreetingResolver {
  @Query(() => GreetingConnection, { description: "Newest first." })
  async greetings(@Args() page: PageArgs, @Arg("filter", () => GreetingFilter, { nullable: true }) filter: GreetingFilter | undefined, @Ctx() ctx: Context) {
    return Object.assign(new GreetingConnection(), await ctx.services.greetings.list(filter ?? {}, page));
  }

  @Mutation(() => Greeting, { description: "Records a greeting and sends it through Postproxy at once (scope write)." })
  sendGreeting(@Arg("input", () => SendGreetingInput) input: SendGreetingInput, @Ctx() ctx: Context) {
    return ctx.services.greetings.send(input, ctx.now);
  }

  @FieldResolver(() => Chat)
  async chat(@Root() greeting: Greeting, @Ctx() ctx: Context) {
    return ctx.loaders.chat.load(greeting.chatId);
  }

  @FieldResolver(() => Referral, { nullable: true, description: "The chat's latest referral when the greeting was requested." })
  async referral(@Root() greeting: Greeting, @Ctx() ctx: Context) {
    return greeting.referralId === null ? null : ctx.loaders.referralById.load(greeting.referralId);
  }
}

@Resolver(() => Chat)
export class ChatGreetingsResolver {
  @FieldResolver(() => GreetingConnection, { description: "The chat's greetings, newest first." })
  async greetings(@Root() chat: Chat, @Args() page: PageArgs, @Ctx() ctx: Context) {
    return Object.assign(new GreetingConnection(), await ctx.services.greetings.list({ chatId: chat.id }, page));
  }
}
