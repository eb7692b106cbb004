import fc from "fast-check";
import { ParsedRef, parseKeyValueRef, partsOf, refGrammar, RefGrammar, storedParts, templateGrammar } from "../../src/referrals/ref-grammar";

const parts = (campaign: string | null, channel: string | null, variant: string | null, tags: ParsedRef["tags"] = []): ParsedRef => ({
  campaign,
  channel,
  variant,
  tags,
});
const allCampaign = (ref: string) => parts(ref, null, null);

/** The parser a template gives; fails the test when the template is refused. */
function grammarOf(template: string): RefGrammar {
  const grammar = templateGrammar(template);
  if (typeof grammar === "string") throw new Error(`template ${template} refused: ${grammar}`);
  return grammar;
}

const CAMPAIGN_CHANNEL_VARIANT = "{campaign}--{channel}--{variant}";

// Meta allows A-Z a-z 0-9 - _ = in a ref.
const META_CHARS = [..."ABCXYZabcxyz0189", "-", "_", "="];
const metaRef = fc.string({ unit: fc.constantFrom(...META_CHARS), minLength: 1, maxLength: 40 });
// A piece that joins with `--` without ambiguity: no `--` inside, and no `-` at either end (`a-` + `--` + `b` reads as `a` + `--` + `-b`).
const word = fc.string({ unit: fc.constantFrom(..."Abz09_"), minLength: 1, maxLength: 6 });
const piece = (extra: string[] = []) =>
  fc.array(fc.string({ unit: fc.constantFrom(..."Abz09_", ...extra), minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }).map((words) => words.join("-"));

describe("parseKeyValueRef, the default grammar", () => {
  test("c=summer--ch=bio--v=b is campaign summer on channel bio, variant b", () => {
    expect(parseKeyValueRef("c=summer--ch=bio--v=b")).toEqual(parts("summer", "bio", "b"));
  });

  test("the long key names work as the short ones do, in any order", () => {
    expect(parseKeyValueRef("variant=b--campaign=summer--channel=bio")).toEqual(parts("summer", "bio", "b"));
  });

  test("a ref without any key=value segment is all campaign: summer_promo is campaign summer_promo", () => {
    expect(parseKeyValueRef("summer_promo")).toEqual(allCampaign("summer_promo"));
    expect(parseKeyValueRef("summer--qr-berlin--a")).toEqual(allCampaign("summer--qr-berlin--a"));
  });

  test("segments without = form the campaign when no c= names it: summer--ch=bio is campaign summer on channel bio", () => {
    expect(parseKeyValueRef("summer--ch=bio")).toEqual(parts("summer", "bio", null));
    expect(parseKeyValueRef("ch=bio--summer--2026--v=a")).toEqual(parts("summer--2026", "bio", "a"));
  });

  test("parts a ref does not name stay null", () => {
    expect(parseKeyValueRef("ch=bio")).toEqual(parts(null, "bio", null));
    expect(parseKeyValueRef("v=b")).toEqual(parts(null, null, "b"));
  });

  test("when c= names the campaign, segments without = are kept as segment tags, in order", () => {
    expect(parseKeyValueRef("qr--c=summer--berlin")).toEqual(
      parts("summer", null, null, [
        { key: "segment", value: "qr" },
        { key: "segment", value: "berlin" },
      ]),
    );
  });

  test("any other key becomes a tag with its key and value", () => {
    expect(parseKeyValueRef("c=summer--city=berlin--ch=qr--promo_code=X1")).toEqual(
      parts("summer", "qr", null, [
        { key: "city", value: "berlin" },
        { key: "promo_code", value: "X1" },
      ]),
    );
  });

  test("a repeated part key becomes a tag; the first one names the part", () => {
    expect(parseKeyValueRef("c=summer--c=winter--ch=bio--channel=qr")).toEqual(
      parts("summer", "bio", null, [
        { key: "c", value: "winter" },
        { key: "channel", value: "qr" },
      ]),
    );
  });

  test("c= with an empty value is not a key=value segment, so it is part of the campaign text", () => {
    expect(parseKeyValueRef("c=--ch=bio")).toEqual(parts("c=", "bio", null));
    expect(parseKeyValueRef("c=")).toEqual(allCampaign("c="));
  });

  test("a segment starting with = has no key, so it is part of the campaign text", () => {
    expect(parseKeyValueRef("=summer--v=a")).toEqual(parts("=summer", null, "a"));
  });

  test("any ref of Meta's characters parses without throwing, and one without = is all campaign", () => {
    fc.assert(
      fc.property(metaRef, (ref) => {
        const parsed = parseKeyValueRef(ref);
        if (!ref.includes("=")) expect(parsed).toEqual(allCampaign(ref));
      }),
    );
  });

  test("c=, ch= and v= segments read back the same values in any order, beside any tags", () => {
    const segments = fc
      .record({ campaign: piece(["="]), channel: piece(["="]), variant: piece(["="]), tags: fc.array(fc.tuple(word, piece()), { maxLength: 3 }) })
      .filter(({ tags }) => tags.every(([key]) => !["c", "ch", "v", "campaign", "channel", "variant"].includes(key.toLowerCase())))
      .chain((values) =>
        fc.tuple(
          fc.constant(values),
          fc.shuffledSubarray([`c=${values.campaign}`, `ch=${values.channel}`, `v=${values.variant}`], { minLength: 3 }),
        ),
      );
    fc.assert(
      fc.property(segments, ([{ campaign, channel, variant, tags }, shuffled]) => {
        const parsed = parseKeyValueRef([...shuffled, ...tags.map(([key, value]) => `${key}=${value}`)].join("--"));
        expect(parsed).toEqual(parts(campaign, channel, variant, tags.map(([key, value]) => ({ key, value }))));
      }),
    );
  });
});

describe("templateGrammar", () => {
  test("{campaign}--{channel}--{variant} reads summer--qr-berlin--a as summer / qr-berlin / a", () => {
    expect(grammarOf(CAMPAIGN_CHANNEL_VARIANT)("summer--qr-berlin--a")).toEqual(parts("summer", "qr-berlin", "a"));
  });

  test("a template reads key=value text as plain text", () => {
    expect(grammarOf(CAMPAIGN_CHANNEL_VARIANT)("c=summer--ch=bio--v=b")).toEqual(parts("c=summer", "ch=bio", "v=b"));
  });

  test.each(["summer_promo", "summer--qr", "summer--", "--bio--a", "summer----a", "summer--qr--"])(
    "a ref that does not fit the template (%j) falls back to all campaign",
    (ref) => {
      expect(grammarOf(CAMPAIGN_CHANNEL_VARIANT)(ref)).toEqual(allCampaign(ref));
    },
  );

  test("the template's literal text must be there, before, between and after the placeholders", () => {
    const grammar = grammarOf("promo_{campaign}_v{variant}");
    expect(grammar("promo_summer_vb")).toEqual(parts("summer", null, "b"));
    expect(grammar("summer_vb")).toEqual(allCampaign("summer_vb"));
    expect(grammar("promo_summer")).toEqual(allCampaign("promo_summer"));
  });

  test("literal text is matched as text, not as a pattern", () => {
    const grammar = grammarOf("{campaign}.{variant}");
    expect(grammar("summer.b")).toEqual(parts("summer", null, "b"));
    expect(grammar("summerxb")).toEqual(allCampaign("summerxb"));
  });

  test("placeholders other than campaign, channel and variant become tags in template order", () => {
    expect(grammarOf("{city}--{campaign}--{week}")("berlin--summer--w32")).toEqual(
      parts("summer", null, null, [
        { key: "city", value: "berlin" },
        { key: "week", value: "w32" },
      ]),
    );
  });

  test("a ref of Meta's full length that almost fits falls back at once (no backtracking blow-up)", () => {
    const grammar = templateGrammar("{campaign}_{channel}_{variant}_{week}_end") as RefGrammar;
    const ref = "_".repeat(2083);
    expect(grammar(ref)).toEqual({ campaign: ref, channel: null, variant: null, tags: [] });
  });

  test("a lone {campaign} placeholder takes the whole ref", () => {
    expect(grammarOf("{campaign}")("c=summer--ch=bio")).toEqual(allCampaign("c=summer--ch=bio"));
  });

  test.each([
    ["summer", /placeholder/],
    ["", /placeholder/],
    ["{Campaign}", /placeholder/],
    ["{campaign}--{campaign}", /repeat/],
    ["{campaign}{channel}", /literal text between placeholders/],
    ["{campaign}--{channel}{variant}", /literal text between placeholders/],
    ["{campaign}--{channel", /brace/],
    ["{campaign}}", /brace/],
    ["{campaign}--{Channel}", /brace/],
  ])("the template %j is refused with a problem matching %p", (template, problem) => {
    const result = templateGrammar(template);
    expect(typeof result).toBe("string");
    expect(result).toMatch(problem);
  });

  test("three non-empty parts joined by -- parse back to those parts", () => {
    const grammar = grammarOf(CAMPAIGN_CHANNEL_VARIANT);
    fc.assert(
      fc.property(piece(["="]), piece(["="]), piece(["="]), (campaign, channel, variant) => {
        expect(grammar([campaign, channel, variant].join("--"))).toEqual(parts(campaign, channel, variant));
      }),
    );
  });

  test("any ref of Meta's characters is either read whole into the three parts or kept whole as the campaign", () => {
    const grammar = grammarOf(CAMPAIGN_CHANNEL_VARIANT);
    fc.assert(
      fc.property(metaRef, (ref) => {
        const parsed = grammar(ref);
        if (parsed.channel === null) expect(parsed).toEqual(allCampaign(ref));
        else expect([parsed.campaign, parsed.channel, parsed.variant].join("--")).toBe(ref);
      }),
    );
  });
});

describe("refGrammar, what REF_GRAMMAR selects", () => {
  test("unset or empty selects the default key=value grammar", () => {
    expect(refGrammar(undefined)).toBe(parseKeyValueRef);
    expect(refGrammar("")).toBe(parseKeyValueRef);
  });

  test("a template selects that template's parser", () => {
    const grammar = refGrammar(CAMPAIGN_CHANNEL_VARIANT);
    expect(typeof grammar).toBe("function");
    expect((grammar as RefGrammar)("summer--qr-berlin--a")).toEqual(parts("summer", "qr-berlin", "a"));
  });

  test("an invalid template gives the template's problem", () => {
    expect(refGrammar("{campaign}{channel}")).toBe(templateGrammar("{campaign}{channel}"));
    expect(typeof refGrammar("{campaign}{channel}")).toBe("string");
  });
});

describe("storedParts and partsOf", () => {
  test("tags are stored as JSON text and read back as they were", () => {
    const parsed = parts("summer", "bio", "b", [
      { key: "city", value: "berlin" },
      { key: "segment", value: "qr" },
    ]);
    const stored = storedParts(parsed);
    expect(stored).toEqual({ campaign: "summer", channel: "bio", variant: "b", tags: expect.any(String) });
    expect(JSON.parse(stored.tags as string)).toEqual(parsed.tags);
    expect(partsOf(stored)).toEqual(parsed);
  });

  test("no tags are stored as null and read back as an empty list", () => {
    const stored = storedParts(parts("summer", null, null));
    expect(stored).toEqual({ campaign: "summer", channel: null, variant: null, tags: null });
    expect(partsOf(stored)).toEqual(parts("summer", null, null));
  });

  test("whatever a ref parses to survives the round trip through the table's columns", () => {
    fc.assert(
      fc.property(metaRef, (ref) => {
        const parsed = parseKeyValueRef(ref);
        expect(partsOf(storedParts(parsed))).toEqual(parsed);
      }),
    );
  });
});
