import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Column, Entity, PrimaryColumn } from "typeorm";
import { timeColumn } from "../db/columns";
import { GreetingTrigger } from "./rule-matching";

registerEnumType(GreetingTrigger, {
  name: "GreetingTrigger",
  valuesConfig: {
    ON_REFERRAL: { description: "Greet as the referral arrives." },
    ON_FIRST_MESSAGE: { description: "Wait for the chat's first inbound message after the referral, then greet." },
  },
});

@ObjectType("GreetingRule", { description: "An automated greeting for the referrals whose ref matches refPattern." })
@Entity("greeting_rule")
export class GreetingRule {
  @Field(() => ID)
  @PrimaryColumn({ type: "text" })
  id: string;

  @Field()
  @Column({ type: "text" })
  name: string;

  @Field({ description: "Case-insensitive glob over the raw ref: * any run of characters, ? any one (summer_*)." })
  @Column({ name: "ref_pattern", type: "text" })
  refPattern: string;

  @Field(() => String, { nullable: true, description: "Only chats on this platform (instagram, facebook, …); null for any." })
  @Column({ type: "text", nullable: true })
  platform: string | null;

  @Field(() => GreetingTrigger)
  @Column({ type: "text" })
  trigger: GreetingTrigger;

  @Field({ description: "Template: {{ref}}, {{campaign}}, {{channel}}, {{variant}}, {{participant.name}}." })
  @Column({ type: "text" })
  body: string;

  @Field(() => Int, { description: "Of the enabled rules that match, the highest priority wins (0 to 1000)." })
  @Column({ type: "integer" })
  priority: number;

  @Field()
  @Column({ type: "boolean" })
  enabled: boolean;

  @Field(() => Date)
  @Column({ name: "created_at", ...timeColumn })
  createdAt: Date;

  @Field(() => Date)
  @Column({ name: "updated_at", ...timeColumn })
  updatedAt: Date;
}
