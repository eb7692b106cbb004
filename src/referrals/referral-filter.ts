import { Field, InputType } from "type-graphql";

/** Which referrals a list or campaignStats covers: the GraphQL input and what ReferralService takes. */
@InputType()
export class ReferralFilter {
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

  @Field({ nullable: true, description: "The ref's campaign part under REF_GRAMMAR." })
  campaign?: string;

  @Field({ nullable: true })
  channel?: string;

  @Field({ nullable: true })
  variant?: string;

  @Field(() => Date, { nullable: true, description: "receivedAt at or after this time." })
  from?: Date;

  @Field(() => Date, { nullable: true, description: "receivedAt before this time." })
  to?: Date;
}
