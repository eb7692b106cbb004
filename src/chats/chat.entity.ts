import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { timeColumn } from "../db/columns";

@ObjectType("Chat", { description: "A DM thread, as Postproxy knows it, with everything refgraph has seen in it." })
@Entity("chat")
export class Chat {
  @Field(() => ID, { description: "Postproxy's chat id." })
  @PrimaryColumn({ type: "text" })
  id: string;

  @Field(() => String, { nullable: true })
  @Column({ name: "profile_id", type: "text", nullable: true })
  profileId: string | null;

  @Field(() => String, { nullable: true, description: "facebook, instagram, … as Postproxy sends it." })
  @Index("IDX_chat_platform")
  @Column({ type: "text", nullable: true })
  platform: string | null;

  @Column({ name: "participant_external_id", type: "text", nullable: true })
  participantExternalId: string | null;

  @Column({ name: "participant_username", type: "text", nullable: true })
  participantUsername: string | null;

  @Column({ name: "participant_name", type: "text", nullable: true })
  participantName: string | null;

  /** The latest referral (Postproxy's metadata.referral), by compareReferrals. */
  @Column({ name: "referral_ref", type: "text", nullable: true })
  referralRef: string | null;

  @Column({ name: "referral_source", type: "text", nullable: true })
  referralSource: string | null;

  @Column({ name: "referral_type", type: "text", nullable: true })
  referralType: string | null;

  @Column({ name: "referral_received_at", ...timeColumn, nullable: true })
  referralReceivedAt: Date | null;

  /** The earliest referral, by the same order: Chat.firstReferral without scanning the history. */
  @Column({ name: "first_referral_ref", type: "text", nullable: true })
  firstReferralRef: string | null;

  @Column({ name: "first_referral_at", ...timeColumn, nullable: true })
  firstReferralAt: Date | null;

  @Column({ name: "first_inbound_at", ...timeColumn, nullable: true })
  firstInboundAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the person last wrote." })
  @Column({ name: "last_inbound_at", ...timeColumn, nullable: true })
  lastInboundAt: Date | null;

  /** The later of the latest referral and the last inbound message (or createdAt): stored so lists sort on an index. */
  @Index("IDX_chat_last_activity")
  @Column({ name: "last_activity_at", ...timeColumn })
  lastActivityAt: Date;

  @Field(() => Date, { description: "Postproxy's created_at when sent, else the earliest event refgraph has for the chat." })
  @Column({ name: "created_at", ...timeColumn })
  createdAt: Date;
}
