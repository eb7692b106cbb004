import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { timeColumn } from "../db/columns";

export enum WebhookEventStatus {
  PROCESSED = "PROCESSED",
  REJECTED = "REJECTED",
  IGNORED = "IGNORED",
  FAILED = "FAILED",
}
registerEnumType(WebhookEventStatus, {
  name: "WebhookEventStatus",
  valuesConfig: {
    PROCESSED: { description: "Applied: its chat, referral or message is stored." },
    REJECTED: { description: "Well-formed but not applicable (see error); kept, not applied." },
    IGNORED: { description: "An event type refgraph does not handle; kept, not applied." },
    FAILED: { description: "Applying it failed inside refgraph (see error); kept for replayWebhookEvent." },
  },
});

/** The append-only inbox: every accepted delivery, written in the same transaction as its effects. */
@ObjectType("WebhookEvent")
@Entity("webhook_event")
@Index("IDX_webhook_event_received", ["receivedAt", "id"])
@Index("IDX_webhook_event_status", ["status", "receivedAt"])
export class WebhookEvent {
  @Field({ description: "Postproxy's event id, the dedupe key." })
  @PrimaryColumn({ type: "text" })
  id: string;

  @Field()
  @Column({ type: "text" })
  type: string;

  @Field(() => String, { nullable: true, description: "X-Postproxy-Delivery of the first accepted delivery." })
  @Column({ name: "delivery_id", type: "text", nullable: true })
  deliveryId: string | null;

  /** The body as received (message text removed unless STORE_MESSAGE_BODIES=true). */
  @Column({ name: "raw_body", type: "text" })
  rawBody: string;

  @Field(() => Date)
  @Column({ name: "received_at", ...timeColumn })
  receivedAt: Date;

  @Field(() => WebhookEventStatus)
  @Column({ type: "text" })
  status: WebhookEventStatus;

  @Field(() => String, { nullable: true, description: "Why it was REJECTED or FAILED." })
  @Column({ type: "text", nullable: true })
  error: string | null;

  @Field(() => Int, { description: "Further deliveries of the same event id, acknowledged without a second effect." })
  @Column({ type: "integer", default: 0 })
  duplicates: number;
}
