import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { Context } from "../graphql/context";
import { GreetingRule } from "./greeting-rule.entity";
import { CreateGreetingRuleInput, UpdateGreetingRuleInput } from "./greeting-rule.inputs";

@Resolver(() => GreetingRule)
export class GreetingRuleResolver {
  @Query(() => [GreetingRule], { description: "Every rule, in the order they are tried: highest priority first, then oldest." })
  greetingRules(@Ctx() ctx: Context) {
    return ctx.services.greetingRules.list();
  }

  @Mutation(() => GreetingRule)
  createGreetingRule(@Arg("input", () => CreateGreetingRuleInput) input: CreateGreetingRuleInput, @Ctx() ctx: Context) {
    return ctx.services.greetingRules.create(input, ctx.now);
  }

  @Mutation(() => GreetingRule)
  updateGreetingRule(@Arg("id", () => ID) id: string, @Arg("input", () => UpdateGreetingRuleInput) input: UpdateGreetingRuleInput, @Ctx() ctx: Context) {
    return ctx.services.greetingRules.update(id, input, ctx.now);
  }

  @Mutation(() => GreetingRule, { description: "Deletes the rule; answers it as it was." })
  deleteGreetingRule(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.greetingRules.delete(id);
  }
}
