import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from "typeorm";
import { timeColumn } from "../db/columns";

@ObjectType("Referral", { description: "One entry of a person into a DM thread through a ?ref= link, an ad or a plugin." })
@Entity("referral")
@Unique("UQ_referral_chat_ref_time", ["chatId", "ref", "receivedAt"])
@Index("IDX_referral_ref_time", ["ref", "receivedAt"])
@Index("IDX_referral_revision", ["revision", "id"])
export class Referral {
  @Field(() => ID)
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  @Field({ description: "The webhook event that first carried this referral." })
  @Column({ name: "event_id", type: "text" })
  eventId: string;

  @Column({ name: "chat_id", type: "text" })
  chatId: string;

  @Field()
  @Column({ type: "text" })
  ref: string;

  @Field(() => String, { nullable: true, description: "As Meta sends it: SHORTLINK, SHORTLINKS, ADS, CUSTOMER_CHAT_PLUGIN, …" })
  @Column({ type: "text", nullable: true })
  source: string | null;

  @Field(() => String, { nullable: true, description: "OPEN_THREAD for links." })
  @Column({ type: "text", nullable: true })
  type: string | null;

  @Field(() => Date)
  @Index("IDX_referral_received_at")
  @Column({ name: "received_at", ...timeColumn })
  receivedAt: Date;

  @Field(() => String, { nullable: true, description: "The Meta ad id when source is ADS." })
  @Column({ name: "ad_id", type: "text", nullable: true })
  adId: string | null;

  /** Meta's ads_context_data as JSON text, kept as it came. */
  @Column({ name: "ads_context", type: "text", nullable: true })
  adsContext: string | null;

  // The ref's parts under REF_GRAMMAR (re-derived by `refgraph reparse`); the raw ref above is never changed.
  @Column({ type: "text", nullable: true })
  campaign: string | null;

  @Column({ type: "text", nullable: true })
  channel: string | null;

  @Column({ type: "text", nullable: true })
  variant: string | null;

  /** Other parts as JSON text: [{ "key": …, "value": … }], null when none. */
  @Column({ type: "text", nullable: true })
  tags: string | null;

  // The referral's place in its chat's history (ReferralTimeline in referral-timeline.ts), kept current by
  // ingestion, so every attribution model and window is a condition on this one row.
  /** The chat's first inbound message at or after this referral. */
  @Column({ name: "first_reply_at", ...timeColumn, nullable: true })
  firstReplyAt: Date | null;

  /** That message, when it came before the chat's next referral. */
  @Column({ name: "last_touch_reply_at", ...timeColumn, nullable: true })
  lastTouchReplyAt: Date | null;

  @Column({ name: "is_first_touch", type: "boolean", default: false })
  isFirstTouch: boolean;

  @Field({ description: "True when this referral is the chat's first activity: no earlier referral or inbound message, by time." })
  @Column({ name: "is_new_chat", type: "boolean", default: false })
  isNewChat: boolean;

  /** Stamped on every write (src/db/revision.ts): what the in-memory analytics copy reads to catch up. */
  @Column({ type: "bigint", default: 0 })
  revision: number;
}
