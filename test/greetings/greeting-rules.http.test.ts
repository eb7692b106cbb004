import { startServer, TestServer } from "../helpers/server";

// Greeting rules through GraphQL: saved only when their pattern, template and priority are usable.

const NOW = Date.parse("2026-11-26T12:00:00Z");
let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { now: () => new Date(NOW) });
});
afterAll(() => server.close());

const RULE = "id name refPattern platform trigger body priority enabled createdAt updatedAt";

async function create(input: Record<string, unknown>) {
  const { body } = await server.graphql(`mutation($input: CreateGreetingRuleInput!) { createGreetingRule(input: $input) { ${RULE} } }`, { input });
  return body;
}
const valid = { name: "Summer", refPattern: "summer_*", trigger: "ON_REFERRAL", body: "Hi {{participant.name}}! Welcome from {{campaign}}." };
const rules = async () => (await server.graphql(`{ greetingRules { name priority enabled } }`)).body.data.greetingRules;

test("a rule is saved with its defaults and listed in the order rules are tried", async () => {
  const { data, errors } = await create(valid);
  expect(errors).toBeUndefined();
  expect(data.createGreetingRule).toMatchObject({ ...valid, platform: null, priority: 0, enabled: true, createdAt: new Date(NOW).toISOString() });
  await create({ ...valid, name: "Instagram summer", platform: "instagram", priority: 50, trigger: "ON_FIRST_MESSAGE" });
  await create({ ...valid, name: "Paused", priority: 900, enabled: false });
  expect(await rules()).toEqual([
    { name: "Paused", priority: 900, enabled: false },
    { name: "Instagram summer", priority: 50, enabled: true },
    { name: "Summer", priority: 0, enabled: true },
  ]);
});

test.each([
  [{ refPattern: "summer promo" }, "input.refPattern", "not ' '"],
  [{ refPattern: "" }, "input.refPattern", "1 to 256"],
  [{ body: "Hi {{name}}" }, "input.body", "unknown placeholder {{name}}"],
  [{ body: "Hi {{ref" }, "input.body", "does not pair up"],
  [{ body: "" }, "input.body", "1 to 1000"],
  [{ priority: 1001 }, "input.priority", "from 0 to 1000"],
  [{ priority: -1 }, "input.priority", "from 0 to 1000"],
  [{ name: "" }, "input.name", "1 to 200"],
])("%j is refused: BAD_USER_INPUT naming %s", async (change, argument, problem) => {
  const before = await rules();
  const { errors } = await create({ ...valid, ...change });
  expect(errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(errors[0].message).toContain(argument);
  expect(errors[0].message).toContain(problem);
  expect(await rules()).toEqual(before);
});

test("a pattern over 256 characters or 16 * is refused on create and on update; the issue's many-star patterns are not", async () => {
  const refused = { extensions: { code: "BAD_USER_INPUT" } };
  expect((await create({ ...valid, refPattern: "x".repeat(257) })).errors[0]).toMatchObject({ ...refused, message: expect.stringMatching(/input\.refPattern.*1 to 256/) });
  expect((await create({ ...valid, refPattern: "a*".repeat(17) })).errors[0]).toMatchObject({ ...refused, message: expect.stringMatching(/input\.refPattern.*at most 16 \* \(holds 17\)/) });
  const { id } = (await create({ ...valid, name: "Many stars", refPattern: "summer*-*-*-*-b" })).data.createGreetingRule;
  const update = (refPattern: string) =>
    server.graphql(`mutation($id: ID!, $input: UpdateGreetingRuleInput!) { updateGreetingRule(id: $id, input: $input) { refPattern } }`, { id, input: { refPattern } });
  expect((await update("*a".repeat(17))).body.errors[0]).toMatchObject({ ...refused, message: expect.stringContaining("input.refPattern") });
  expect((await update("*a*a*a*a*a*a*b")).body.data.updateGreetingRule).toEqual({ refPattern: "*a*a*a*a*a*a*b" });
});

test("a template with an open {{ and a long run of spaces is refused at once", async () => {
  // The regexes that read templates were polynomial on runs of spaces: this one kept the process busy for minutes.
  const { errors } = await create({ ...valid, body: `{{${" ".repeat(20_000)}` });
  expect(errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(errors[0].message).toContain("input.body");
});

test("an update changes only the fields given, and is checked the same way; an unknown id is NOT_FOUND", async () => {
  const { id } = (await create({ ...valid, name: "To edit" })).data.createGreetingRule;
  const update = (input: Record<string, unknown>, ruleId = id) =>
    server.graphql(`mutation($id: ID!, $input: UpdateGreetingRuleInput!) { updateGreetingRule(id: $id, input: $input) { ${RULE} } }`, { id: ruleId, input });
  const { body } = await update({ priority: 7, enabled: false });
  expect(body.data.updateGreetingRule).toMatchObject({ ...valid, name: "To edit", priority: 7, enabled: false });
  expect((await update({ body: "{{participant.email}}" })).body.errors[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" }, message: expect.stringContaining("input.body") });
  expect((await update({ priority: 1 }, "no-such-rule")).body.errors[0].extensions.code).toBe("NOT_FOUND");
});

test("delete answers the rule as it was; a second delete is NOT_FOUND", async () => {
  const { id } = (await create({ ...valid, name: "To delete" })).data.createGreetingRule;
  const remove = () => server.graphql(`mutation($id: ID!) { deleteGreetingRule(id: $id) { id name } }`, { id });
  expect((await remove()).body.data.deleteGreetingRule).toEqual({ id, name: "To delete" });
  expect((await rules()).map((rule: { name: string }) => rule.name)).not.toContain("To delete");
  expect((await remove()).body.errors[0].extensions.code).toBe("NOT_FOUND");
});
