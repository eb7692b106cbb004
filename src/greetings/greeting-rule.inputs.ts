import { IsBoolean, IsEnum, IsInt, IsOptional, IsString, Length, Max, Min, ValidateBy, ValidationOptions, validateSync } from "class-validator";
import { Field, InputType, Int } from "type-graphql";
import { badUserInput } from "../errors";
import { GreetingTrigger, MAX_PATTERN_LENGTH, MAX_PATTERN_STARS, patternProblem, templateProblem } from "./rule-matching";

const MAX_PRIORITY = 1000;

/** A class-validator check from one of the pure rules, which say what is wrong or null. */
const checkedBy = (name: string, problem: (value: string) => string | null, options?: ValidationOptions) =>
  ValidateBy(
    { name, validator: { validate: (value: unknown) => typeof value === "string" && problem(value) === null, defaultMessage: (args) => `${problem(String(args?.value))}` } },
    options,
  );

/**
 * Decorators as one, listed as they would be stacked above a property: they run bottom first like stacked ones, so a
 * field's failed checks, and the message assertValid picks from them, come in the same order.
 */
const allOf =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, property) => {
    for (const decorate of [...decorators].reverse()) decorate(target, property);
  };

const priorityRange = { message: `must be from 0 to ${MAX_PRIORITY}` };

/** What each field must hold, the same for both inputs; the update input adds IsOptional to every field. */
const checks = {
  name: allOf(IsString(), Length(1, 200, { message: "must be 1 to 200 characters" })),
  refPattern: checkedBy("refPattern", patternProblem),
  platform: allOf(IsString(), Length(1, 50, { message: "must be 1 to 50 characters" })),
  trigger: IsEnum(GreetingTrigger),
  body: allOf(Length(1, 1000, { message: "must be 1 to 1000 characters" }), checkedBy("template", templateProblem)),
  priority: allOf(IsInt({ message: "must be a whole number" }), Min(0, priorityRange), Max(MAX_PRIORITY, priorityRange)),
  enabled: IsBoolean(),
};

@InputType("CreateGreetingRuleInput")
export class CreateGreetingRuleInput {
  @Field()
  @checks.name
  name: string;

  @Field({
    description: `Case-insensitive glob over the raw ref: * any run of characters, ? any one. At most ${MAX_PATTERN_LENGTH} characters and ${MAX_PATTERN_STARS} *.`,
  })
  @checks.refPattern
  refPattern: string;

  @Field(() => String, { nullable: true, description: "Only chats on this platform; null or absent for any." })
  @IsOptional()
  @checks.platform
  platform?: string | null;

  @Field(() => GreetingTrigger)
  @checks.trigger
  trigger: GreetingTrigger;

  @Field({ description: "1 to 1000 characters; placeholders {{ref}}, {{campaign}}, {{channel}}, {{variant}}, {{participant.name}}." })
  @checks.body
  body: string;

  @Field(() => Int, { defaultValue: 0 })
  @checks.priority
  priority: number;

  @Field({ defaultValue: true })
  @checks.enabled
  enabled: boolean;
}

@InputType("UpdateGreetingRuleInput", { description: "Only the fields given change." })
export class UpdateGreetingRuleInput {
  @Field({ nullable: true })
  @IsOptional()
  @checks.name
  name?: string;

  @Field({ nullable: true })
  @IsOptional()
  @checks.refPattern
  refPattern?: string;

  @Field(() => String, { nullable: true, description: "null for any platform." })
  @IsOptional()
  @checks.platform
  platform?: string | null;

  @Field(() => GreetingTrigger, { nullable: true })
  @IsOptional()
  @checks.trigger
  trigger?: GreetingTrigger;

  @Field({ nullable: true })
  @IsOptional()
  @checks.body
  body?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @checks.priority
  priority?: number;

  @Field({ nullable: true })
  @IsOptional()
  @checks.enabled
  enabled?: boolean;
}

/** Throws BAD_USER_INPUT naming the first invalid field (`input.body`, …). */
export function assertValid(input: CreateGreetingRuleInput | UpdateGreetingRuleInput): void {
  const [error] = validateSync(input);
  if (error) throw badUserInput(`input.${error.property}`, Object.values(error.constraints ?? {})[0]?.replace(`${error.property} `, "") ?? "is invalid");
}
