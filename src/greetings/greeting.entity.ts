import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn, Unique } from "typeorm";
import { timeColumn } from "../db/columns";

export enum GreetingStatus {
  QUEUED = "QUEUED",
  SENDING = "SENDING",
  PENDING = "PENDING",
  PUBLISHED = "PUBLISHED",
  FAILED = "FAILED",
  SKIPPED = "SKIPPED",
}

registerEnumType(GreetingStatus, {
  name: "GreetingStatus",
  valuesConfig: {
    QUEUED: { description: "Recorded; waiting for its first or next attempt." },
    SENDING: { description: "An attempt is under way." },
    PENDING: { description: "Postproxy accepted it; its message.sent or message.failed webhook has not come yet." },
    PUBLISHED: { description: "Postproxy reported it sent (message.sent)." },
    FAILED: { description: "Postproxy refused it, reported it failed, or every attempt failed; see error." },
    SKIPPED: { description: "A rule's greeting that was not sent, as the messaging window was closed; see error." },
  },
});

export enum GreetingTag {
  HUMAN_AGENT = "HUMAN_AGENT",
}

registerEnumType(GreetingTag, {
  name: "GreetingTag",
  valuesConfig: { HUMAN_AGENT: { description: "A human's reply, allowed up to 7 days after the person's last message." } },
});

@ObjectType("Greeting", { description: "A message to a person who came through a referral, sent through Postproxy." })
@Entity("greeting")
@Unique("UQ_greeting_chat_key", ["chatId", "idempotencyKey"])
@Index("IDX_greeting_status_next", ["status", "nextAttemptAt"])
export class Greeting {
  @Field(() => ID, { description: "Also the Idempotency-Key of every attempt, so Postproxy sends it at most once." })
  @PrimaryColumn({ type: "text" })
  id: string;

  @Column({ name: "chat_id", type: "text" })
  chatId: string;

  /** The chat's latest referral when the greeting was requested. */
  @Index("IDX_greeting_referral")
  @Column({ name: "referral_id", type: "integer", nullable: true })
  referralId: number | null;

  /** The caller's key, or by default one per (chat, latest referral). */
  @Column({ name: "idempotency_key", type: "text" })
  idempotencyKey: string;

  @Field()
  @Column({ type: "text" })
  body: string;

  @Field(() => GreetingTag, { nullable: true })
  @Column({ type: "text", nullable: true })
  tag: GreetingTag | null;

  @Field(() => GreetingStatus)
  @Column({ type: "text" })
  status: GreetingStatus;

  @Field(() => Int, { description: "Attempts made so far." })
  @Column({ type: "integer", default: 0 })
  attempts: number;

  @Field(() => String, { nullable: true, description: "Why the last attempt failed, or why it FAILED." })
  @Column({ type: "text", nullable: true })
  error: string | null;

  @Field(() => String, { nullable: true })
  @Index("IDX_greeting_postproxy_message")
  @Column({ name: "postproxy_message_id", type: "text", nullable: true })
  postproxyMessageId: string | null;

  /** When a QUEUED greeting may be attempted again. */
  @Column({ name: "next_attempt_at", ...timeColumn, nullable: true })
  nextAttemptAt: Date | null;

  @Field(() => Date)
  @Column({ name: "created_at", ...timeColumn })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "When Postproxy accepted it." })
  @Column({ name: "sent_at", ...timeColumn, nullable: true })
  sentAt: Date | null;
}
