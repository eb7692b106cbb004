import { Field, InputType } from "type-graphql";
import { GreetingStatus } from "./greeting.entity";

/** Which greetings a list covers: the GraphQL input and what GreetingService takes. */
@InputType("GreetingFilter")
export class GreetingFilter {
  @Field(() => GreetingStatus, { nullable: true })
  status?: GreetingStatus;

  @Field({ nullable: true })
  chatId?: string;

  @Field({ nullable: true, description: "Greetings of referrals with this ref." })
  ref?: string;
}
