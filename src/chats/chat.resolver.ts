import { Arg, Args, Ctx, Field, FieldResolver, ID, ObjectType, Query, Resolver, Root, registerEnumType } from "type-graphql";
import { badUserInput } from "../errors";
import { Connection, PageArgs } from "../graphql/connection";
import { Context } from "../graphql/context";
import { ReferralConnection } from "../referrals/referral.resolver";
import { Referral } from "../referrals/referral.entity";
import { Chat } from "./chat.entity";
import { ChatFilter } from "./chat-filter";
import { messagingWindowAt, WindowOpener } from "./messaging-window";

const WindowOpenerEnum = { REFERRAL: "REFERRAL", INBOUND_MESSAGE: "INBOUND_MESSAGE" } as const satisfies Record<WindowOpener, WindowOpener>;
registerEnumType(WindowOpenerEnum, { name: "WindowOpener" });

@ObjectType()
class Participant {
  @Field(() => String, { nullable: true, description: "IGSID or PSID." })
  externalId: string | null;

  @Field(() => String, { nullable: true })
  username: string | null;

  @Field(() => String, { nullable: true })
  name: string | null;
}

@ObjectType({ description: "Postproxy's metadata.referral: the latest referral only." })
class ChatReferral {
  @Field()
  ref: string;

  @Field(() => String, { nullable: true })
  source: string | null;

  @Field(() => String, { nullable: true })
  type: string | null;

  @Field(() => Date)
  receivedAt: Date;
}

@ObjectType({ description: "Postproxy-compatible chat metadata (latest referral wins, by receivedAt)." })
class ChatMetadata {
  @Field(() => ChatReferral, { nullable: true })
  referral: ChatReferral | null;

  @Field(() => Date, { nullable: true })
  lastReferralAt: Date | null;
}

@ObjectType({ description: "Meta's 24-hour standard messaging window." })
class MessagingWindow {
  @Field()
  isOpen: boolean;

  @Field(() => Date, { nullable: true, description: "24 h after the later of the last referral and the last inbound message." })
  expiresAt: Date | null;

  @Field(() => WindowOpenerEnum, { nullable: true })
  openedBy: WindowOpener | null;
}

export const ChatConnection = Connection(Chat, "Chat");

@Resolver(() => Chat)
export class ChatResolver {
  @Query(() => Chat, { nullable: true })
  chat(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.loaders.chat.load(id);
  }

  @Query(() => ChatConnection, { description: "Newest activity first." })
  async chats(@Args() page: PageArgs, @Arg("filter", () => ChatFilter, { nullable: true }) filter: ChatFilter | undefined, @Ctx() ctx: Context) {
    if (filter?.referredFrom && filter.referredTo && filter.referredFrom >= filter.referredTo)
      throw badUserInput("filter.referredFrom", "must be before filter.referredTo");
    return Object.assign(new ChatConnection(), await ctx.services.chats.list(filter ?? {}, page, ctx.now));
  }

  @FieldResolver(() => Participant)
  participant(@Root() chat: Chat): Participant {
    return { externalId: chat.participantExternalId, username: chat.participantUsername, name: chat.participantName };
  }

  @FieldResolver(() => ChatMetadata)
  metadata(@Root() chat: Chat): ChatMetadata {
    const referral =
      chat.referralRef && chat.referralReceivedAt
        ? { ref: chat.referralRef, source: chat.referralSource, type: chat.referralType, receivedAt: chat.referralReceivedAt }
        : null;
    return { referral, lastReferralAt: chat.referralReceivedAt };
  }

  @FieldResolver(() => MessagingWindow)
  messagingWindow(@Root() chat: Chat, @Ctx() ctx: Context): MessagingWindow {
    return messagingWindowAt(chat.referralReceivedAt, chat.lastInboundAt, ctx.now);
  }

  @FieldResolver(() => ReferralConnection, { description: "The full referral history, newest first." })
  async referrals(@Root() chat: Chat, @Args() page: PageArgs, @Ctx() ctx: Context) {
    return Object.assign(new ReferralConnection(), await ctx.loaders.chatReferrals.load({ chatId: chat.id, ...page }));
  }

  @FieldResolver(() => Referral, { nullable: true })
  firstReferral(@Root() chat: Chat, @Ctx() ctx: Context) {
    return chat.firstReferralRef && chat.firstReferralAt
      ? ctx.loaders.referralAt.load({ chatId: chat.id, ref: chat.firstReferralRef, receivedAt: chat.firstReferralAt })
      : null;
  }

  @FieldResolver(() => Referral, { nullable: true })
  latestReferral(@Root() chat: Chat, @Ctx() ctx: Context) {
    return chat.referralRef && chat.referralReceivedAt
      ? ctx.loaders.referralAt.load({ chatId: chat.id, ref: chat.referralRef, receivedAt: chat.referralReceivedAt })
      : null;
  }
}
