import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, Resolver, Root } from "type-graphql";
import { Chat } from "../chats/chat.entity";
import { Context } from "../graphql/context";
import { Referral } from "../referrals/referral.entity";
import { Greeting, GreetingTag } from "./greeting.entity";
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

@Resolver(() => Greeting)
export class GreetingResolver {
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
