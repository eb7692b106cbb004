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

@InputType("CreateGreetingRuleInput")
export class CreateGreetingRuleInput {
  @Field()
  @IsString()
  @Length(1, 200, { message: "must be 1 to 200 characters" })
  name: string;

  @Field({
    description: `Case-insensitive glob over the raw ref: * any run of characters, ? any one. At most ${MAX_PATTERN_LENGTH} characters and ${MAX_PATTERN_STARS} *.`,
  })
  @checkedBy("refPattern", patternProblem)
  refPattern: string;

  @Field(() => String, { nullable: true, description: "Only chats on this platform; null or absent for any." })
  @IsOptional()
  @IsString()
  @Length(1, 50, { message: "must be 1 to 50 characters" })
  platform?: string | null;

  @Field(() => GreetingTrigger)
  @IsEnum(GreetingTrigger)
  trigger: GreetingTrigger;

  @Field({ description: "1 to 1000 characters; placeholders {{ref}}, {{campaign}}, {{channel}}, {{variant}}, {{participant.name}}." })
  @Length(1, 1000, { message: "must be 1 to 1000 characters" })
  @checkedBy("template", templateProblem)
  body: string;

  @Field(() => Int, { defaultValue: 0 })
  @IsInt({ message: "must be a whole number" })
  @Min(0, { message: `must be from 0 to ${MAX_PRIORITY}` })
  @Max(MAX_PRIORITY, { message: `must be from 0 to ${MAX_PRIORITY}` })
  priority: number;

  @Field({ defaultValue: true })
  @IsBoolean()
  enabled: boolean;
}

@InputType("UpdateGreetingRuleInput", { description: "Only the fields given change." })
export class UpdateGreetingRuleInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: "must be 1 to 200 characters" })
  name?: string;

  @Field({ nullable: true })
  @IsOptional()
  @checkedBy("refPattern", patternProblem)
  refPattern?: string;

  @Field(() => String, { nullable: true, description: "null for any platform." })
  @IsOptional()
  @IsString()
  @Length(1, 50, { message: "must be 1 to 50 characters" })
  platform?: string | null;

  @Field(() => GreetingTrigger, { nullable: true })
  @IsOptional()
  @IsEnum(GreetingTrigger)
  trigger?: GreetingTrigger;

  @Field({ nullable: true })
  @IsOptional()
  @Length(1, 1000, { message: "must be 1 to 1000 characters" })
  @checkedBy("template", templateProblem)
  body?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt({ message: "must be a whole number" })
  @Min(0, { message: `must be from 0 to ${MAX_PRIORITY}` })
  @Max(MAX_PRIORITY, { message: `must be from 0 to ${MAX_PRIORITY}` })
  priority?: number;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Throws BAD_USER_INPUT naming the first invalid field (`input.body`, …). */
export function assertValid(input: CreateGreetingRuleInput | UpdateGreetingRuleInput): void {
  const [error] = validateSync(input);
  if (error) throw badUserInput(`input.${error.property}`, Object.values(error.constraints ?? {})[0]?.replace(`${error.property} `, "") ?? "is invalid");
}
