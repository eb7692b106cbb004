import { assertValid, CreateGreetingRuleInput, UpdateGreetingRuleInput } from "../../src/greetings/greeting-rule.inputs";

// Both inputs share each field's checks: a field refused on create is refused on update with the same message.

const valid = { name: "Summer", refPattern: "summer_*", trigger: "ON_REFERRAL", body: "Hi {{participant.name}}!", priority: 0, enabled: true };
const refusal = (check: () => void) => {
  try {
    check();
  } catch (error) {
    return error;
  }
  return null;
};
const create = (fields: object) => refusal(() => assertValid(Object.assign(new CreateGreetingRuleInput(), valid, fields)));
const update = (fields: object) => refusal(() => assertValid(Object.assign(new UpdateGreetingRuleInput(), fields)));

test.each([
  [{ name: "" }, "Argument 'input.name' must be 1 to 200 characters."],
  [{ name: 5 }, "Argument 'input.name' must be 1 to 200 characters."],
  [{ refPattern: "summer promo" }, "Argument 'input.refPattern' may hold only A-Z a-z 0-9 - _ = and the wildcards * and ?, not ' '."],
  [{ platform: "x".repeat(51) }, "Argument 'input.platform' must be 1 to 50 characters."],
  [{ trigger: "ON_SUNDAY" }, "Argument 'input.trigger' must be one of the following values: ON_REFERRAL, ON_FIRST_MESSAGE."],
  [{ body: "" }, "Argument 'input.body' must be 1 to 1000 characters."],
  [{ body: "Hi {{name}}" }, "Argument 'input.body' names an unknown placeholder {{name}}; known: {{ref}}, {{campaign}}, {{channel}}, {{variant}}, {{participant.name}}."],
  [{ priority: 1.5 }, "Argument 'input.priority' must be a whole number."],
  [{ priority: 1001 }, "Argument 'input.priority' must be from 0 to 1000."],
  [{ enabled: "yes" }, "Argument 'input.enabled' must be a boolean value."],
])("%j is refused on create and on update with the same BAD_USER_INPUT", (fields, message) => {
  for (const error of [create(fields), update(fields)]) expect(error).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
});

test("an update may leave every field out, and a create may leave out only the platform", () => {
  expect(update({})).toBeNull();
  expect(create({})).toBeNull();
  expect(create({ platform: null })).toBeNull();
});
