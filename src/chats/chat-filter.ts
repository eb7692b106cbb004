import { Field, InputType } from "type-graphql";

/** Which chats a list covers: the GraphQL input and what ChatService takes. */
@InputType()
export class ChatFilter {
  @Field({ nullable: true })
  platform?: string;

  @Field({ nullable: true, description: "Chats with a referral of this ref anywhere in their history." })
  ref?: string;

  @Field({ nullable: true })
  hasReferral?: boolean;

  @Field({ nullable: true, description: "Chats whose messaging window is open now (or closed, with false)." })
  windowOpen?: boolean;

  @Field(() => Date, { nullable: true, description: "Chats with a referral at or after this time." })
  referredFrom?: Date;

  @Field(() => Date, { nullable: true, description: "Chats with a referral before this time." })
  referredTo?: Date;
}
