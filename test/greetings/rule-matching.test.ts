import fc from "fast-check";
import {
  chooseRule,
  globMatches,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_STARS,
  Placeholder,
  PLACEHOLDERS,
  patternProblem,
  renderTemplate,
  templateProblem,
} from "../../src/greetings/rule-matching";

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
    ["*", "", true],
    ["?", "", false],
    ["a*b*c", "aXbYc", true],
    ["a*b*c", "aXbYcZ", false],
    ["*-b", "summer-a-b", true],
    ["A?C", "abc", true],
    // `?` is one UTF-16 code unit, any character at all (the old regex had the `s` flag but not `u`).
    ["x?y", "x\ny", true],
    ["x??y", "x😀y", true],
    ["x?y", "x😀y", false],
    // Only ASCII letters fold: no other character equals a pattern character.
    ["s", "ſ", false],
    ["k", "\u212a", false],
    ["i", "ı", false],
  ])("%j on %j → %s", (pattern, ref, expected) => {
    expect(globMatches(pattern, ref)).toBe(expected);
  });

  test("the issue's pathological cases answer at once, and rightly", () => {
    // Each froze the process as a backtracking regex (seconds to minutes, and longer than anyone waited).
    expect(globMatches("*a*a*a*a*a*a*b", "a".repeat(2083))).toBe(false);
    expect(globMatches("*a*a*a*a*a*a*b", "a".repeat(2082) + "b")).toBe(true);
    expect(globMatches("summer*-*-*-*-b", "summer" + "-".repeat(300))).toBe(false);
    expect(globMatches("summer*-*-*-*-b", "summer" + "-".repeat(300) + "b")).toBe(true);
    expect(globMatches("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?x", "?".repeat(2083))).toBe(false);
  });

  // The definition, spelled out: exponential, but fine on short inputs.
  const fold = (c: string) => (c >= "A" && c <= "Z" ? c.toLowerCase() : c);
  const reference = (pattern: string, ref: string): boolean => {
    if (pattern === "") return ref === "";
    if (pattern[0] === "*") return reference(pattern.slice(1), ref) || (ref !== "" && reference(pattern, ref.slice(1)));
    return ref !== "" && (pattern[0] === "?" || fold(pattern[0]) === fold(ref[0])) && reference(pattern.slice(1), ref.slice(1));
  };
  // What refgraph did before: a regex with the `i` and `s` flags.
  const regexGlob = (pattern: string, ref: string) =>
    new RegExp(`^${[...pattern].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))).join("")}$`, "is").test(ref);

  test("agrees with the definition on short patterns and refs", () => {
    const pattern = fc.string({ unit: fc.constantFrom(..."aAbB-*?"), maxLength: 8 });
    const ref = fc.string({ unit: fc.constantFrom(..."aAbB-?*"), maxLength: 10 });
    fc.assert(fc.property(pattern, ref, (p, r) => globMatches(p, r) === reference(p, r)), { numRuns: 2000 });
  });

  test("agrees with the regex it replaces, on any characters in the ref", () => {
    const pattern = fc.string({ unit: fc.constantFrom(..."sSkK_=*?"), maxLength: 6 });
    const ref = fc.string({ unit: fc.constantFrom(..."sSkK_=", "ſ", "\u212a", "é", "\n", "😀", "\ud83d"), maxLength: 8 });
    fc.assert(fc.property(pattern, ref, (p, r) => globMatches(p, r) === regexGlob(p, r)), { numRuns: 2000 });
  });
});

test("patterns take Meta's ref characters and the wildcards only", () => {
  expect(patternProblem("summer_*")).toBeNull();
  expect(patternProblem("c=summer--ch=?")).toBeNull();
  expect(patternProblem("")).toMatch(/1 to 256/);
  expect(patternProblem("summer promo")).toMatch(/not ' '/);
  expect(patternProblem("summer.*")).toMatch(/not '\.'/);
});

test("a pattern holds at most MAX_PATTERN_LENGTH characters and MAX_PATTERN_STARS *", () => {
  expect([MAX_PATTERN_LENGTH, MAX_PATTERN_STARS]).toEqual([256, 16]);
  expect(patternProblem("x".repeat(256))).toBeNull();
  expect(patternProblem("x".repeat(257))).toBe("must be 1 to 256 characters");
  expect(patternProblem("a*".repeat(16))).toBeNull();
  expect(patternProblem("a*".repeat(17))).toBe("may hold at most 16 * (holds 17)");
  expect(patternProblem("summer*-*-*-*-b")).toBeNull();
  expect(patternProblem("*a*a*a*a*a*a*b")).toBeNull();
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

  test("a long run of spaces inside an open {{ answers at once", () => {
    // The regex these replaced was polynomial here: 3,000 spaces took seconds, 20,000 far longer than anyone waits.
    const spaces = " ".repeat(20_000);
    expect(templateProblem(`{{${spaces}`)).toMatch(/does not pair up/);
    expect(templateProblem(`{{${spaces}ref${spaces}}}`)).toBeNull();
    expect(renderTemplate(`{{${spaces}ref${spaces}}}!${"{{ ".repeat(5_000)}`, values)).toBe(`c=summer--ch=bio!${"{{ ".repeat(5_000)}`);
  });

  // What refgraph did before, with regexes (its old code, verbatim): the scan must agree with it.
  const regexTemplateProblem = (template: string) => {
    const unknown = [...template.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)].map((m) => m[1]).find((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
    if (unknown !== undefined) return `names an unknown placeholder {{${unknown}}}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`;
    if (/\{\{|\}\}/.test(template.replace(/\{\{\s*[^{}]*?\s*\}\}/g, ""))) return "has a {{ or }} that does not pair up";
    return null;
  };
  const regexRenderTemplate = (template: string) => template.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, name: Placeholder) => values[name] ?? "");

  test("templates read as the regexes they replace read them", () => {
    const template = fc.string({ unit: fc.constantFrom("{", "}", " ", "\t", "\u00a0", "\ufeff", "x", "ref", "variant"), maxLength: 14 });
    fc.assert(
      fc.property(template, (t) => {
        expect(templateProblem(t)).toBe(regexTemplateProblem(t));
        if (templateProblem(t) === null) expect(renderTemplate(t, values)).toBe(regexRenderTemplate(t));
      }),
      { numRuns: 3000 },
    );
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
