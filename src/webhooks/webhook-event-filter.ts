import { Field, InputType } from "type-graphql";
import { WebhookEventStatus } from "./webhook-event.entity";

/** Which webhook events the inbox lists: the GraphQL input and what WebhookEventService takes. */
@InputType()
export class WebhookEventFilter {
  @Field(() => WebhookEventStatus, { nullable: true })
  status?: WebhookEventStatus;

  @Field({ nullable: true })
  type?: string;
}
