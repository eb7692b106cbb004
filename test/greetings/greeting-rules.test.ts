import { chooseRule, globMatches, patternProblem, renderTemplate, templateProblem } from "../../src/greetings/greeting-rules";

describe("globMatches", () => {
  test.each([
    ["summer_*", "summer_promo", true],
    ["summer_*", "SUMMER_Promo", true],
    ["summer_*", "summer", false],
    ["summer_*", "winter_summer_promo", false],
    ["*", "anything-at=all", true],
    ["c=summer--ch=*", "c=summer--ch=bio--v=a", true],
    ["c=summer--ch=*", "c=summer", false],
    ["qr-?", "qr-1", true],
    ["qr-?", "qr-12", false],
    ["exact", "exact", true],
    ["exact", "exactly", false],
  ])("%s on %s → %s", (pattern, ref, expected) => {
    expect(globMatches(pattern, ref)).toBe(expected);
  });
});

test("patterns take Meta's ref characters and the wildcards only", () => {
  expect(patternProblem("summer_*")).toBeNull();
  expect(patternProblem("c=summer--ch=?")).toBeNull();
  expect(patternProblem("")).toMatch(/1 to 2083/);
  expect(patternProblem("summer promo")).toMatch(/not ' '/);
  expect(patternProblem("summer.*")).toMatch(/not '\.'/);
  expect(patternProblem("x".repeat(2084))).toMatch(/1 to 2083/);
});

describe("templates", () => {
  const values = { ref: "c=summer--ch=bio", campaign: "summer", channel: "bio", variant: null, "participant.name": "Jane Doe" };

  test("every known placeholder renders; an unknown value renders empty", () => {
    const template = "Hi {{participant.name}}! You came from {{ channel }} ({{campaign}}/{{variant}}) via {{ref}}.";
    expect(templateProblem(template)).toBeNull();
    expect(renderTemplate(template, values)).toBe("Hi Jane Doe! You came from bio (summer/) via c=summer--ch=bio.");
    expect(renderTemplate("No placeholders.", values)).toBe("No placeholders.");
  });

  test("unknown placeholders and unpaired braces are refused, naming the problem", () => {
    expect(templateProblem("Hi {{name}}")).toMatch(/unknown placeholder \{\{name\}\}.*\{\{participant\.name\}\}/);
    expect(templateProblem("Hi {{participant.email}}")).toMatch(/unknown placeholder \{\{participant\.email\}\}/);
    expect(templateProblem("Hi {{ref")).toMatch(/does not pair up/);
    expect(templateProblem("Hi ref}}")).toMatch(/does not pair up/);
    expect(templateProblem("Braces { alone } are fine")).toBeNull();
  });
});

describe("chooseRule", () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 26, 12, minute));
  const rule = (name: string, refPattern: string, priority: number, extra: Partial<{ platform: string | null; enabled: boolean; createdAt: Date }> = {}) => ({
    name,
    refPattern,
    priority,
    platform: null,
    enabled: true,
    createdAt: at(0),
    ...extra,
  });

  test("the highest-priority enabled rule whose pattern and platform match wins; ties go to the oldest", () => {
    const rules = [
      rule("all", "*", 0),
      rule("summer", "summer_*", 10),
      rule("summer-ig", "summer_*", 20, { platform: "instagram" }),
      rule("off", "summer_*", 99, { enabled: false }),
      rule("newer-tie", "summer_*", 10, { createdAt: at(5) }),
    ];
    expect(chooseRule(rules, { ref: "summer_promo", platform: "instagram" })?.name).toBe("summer-ig");
    expect(chooseRule(rules, { ref: "summer_promo", platform: "facebook" })?.name).toBe("summer");
    expect(chooseRule(rules, { ref: "winter", platform: null })?.name).toBe("all");
    expect(chooseRule(rules.slice(1), { ref: "winter", platform: "facebook" })).toBeNull();
  });
});
