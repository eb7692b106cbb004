import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from "typeorm";
import { timeColumn } from "../db/columns";

@ObjectType("Referral", { description: "One entry of a person into a DM thread through a ?ref= link, an ad or a plugin." })
@Entity("referral")
@Unique("UQ_referral_chat_ref_time", ["chatId", "ref", "receivedAt"])
@Index("IDX_referral_ref_time", ["ref", "receivedAt"])
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
}
