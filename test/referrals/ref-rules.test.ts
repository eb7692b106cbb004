import { MAX_REF_LENGTH, refProblem } from "../../src/referrals/ref-rules";

describe("refProblem", () => {
  test.each(["summer_promo", "a", "A-Z_a-z=0-9", "campaign=spring-2026_variant=B", "0123456789"])("%p is a valid ref", (ref) => {
    expect(refProblem(ref)).toBeNull();
  });

  test("Meta's limit is 2,083 characters", () => {
    expect(MAX_REF_LENGTH).toBe(2083);
  });

  test("a ref of exactly 2,083 characters is valid", () => {
    expect(refProblem("x".repeat(2083))).toBeNull();
  });

  test("a ref of 2,084 characters is too long, and the reason gives both lengths", () => {
    expect(refProblem("x".repeat(2084))).toBe("ref is 2084 characters long; Meta allows at most 2083");
  });

  test("an empty ref is refused as empty", () => {
    expect(refProblem("")).toBe("ref is empty");
  });

  test.each([undefined, null, 42, ["a"], { ref: "a" }, true])("a ref that is not a string (%p) is refused as missing", (ref) => {
    expect(refProblem(ref)).toBe("ref is missing or not a string");
  });

  test.each(["summer promo", "summer.promo", "a+b", "a/b", "a%20b", "é", "promo👋", "a\nb", "promo\n", " promo", "a&b=c"])(
    "a ref with a character outside A-Z a-z 0-9 - _ = (%j) is refused",
    (ref) => {
      expect(refProblem(ref)).toBe("ref contains a character outside A-Z a-z 0-9 - _ =");
    },
  );

  test("length is checked before characters, so an overlong ref of bad characters is reported as too long", () => {
    expect(refProblem(" ".repeat(2084))).toMatch(/^ref is 2084 characters long/);
  });
});
