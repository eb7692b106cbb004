import fc from "fast-check";
import { compareReferrals, fillReferral, ReferralDetails, ReferralPoint } from "../../src/referrals/referral-order";

const T0 = Date.parse("2026-08-20T09:00:00.000Z");
const point = (ref: string, millis: number): ReferralPoint => ({ ref, receivedAt: new Date(millis) });

describe("compareReferrals", () => {
  test("an earlier referral comes first", () => {
    expect(compareReferrals(point("z", T0), point("a", T0 + 1))).toBeLessThan(0);
    expect(compareReferrals(point("a", T0 + 1), point("z", T0))).toBeGreaterThan(0);
  });

  test("two referrals at the same instant are ordered by ref", () => {
    expect(compareReferrals(point("alpha", T0), point("beta", T0))).toBeLessThan(0);
    expect(compareReferrals(point("beta", T0), point("alpha", T0))).toBeGreaterThan(0);
  });

  test("the same ref at the same instant compares equal", () => {
    expect(compareReferrals(point("alpha", T0), point("alpha", T0))).toBe(0);
  });

  test("sorting any shuffle of the same referrals gives the same order", () => {
    const referral = fc.record({ ref: fc.constantFrom("a", "b", "B", "a_1", "a-1"), millis: fc.integer({ min: T0, max: T0 + 3 }) });
    const listAndShuffle = fc
      .array(referral, { maxLength: 12 })
      .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })));
    const sorted = (items: { ref: string; millis: number }[]) =>
      items.map(({ ref, millis }) => point(ref, millis)).sort(compareReferrals).map((p) => `${p.receivedAt.getTime()}:${p.ref}`);
    fc.assert(
      fc.property(listAndShuffle, ([list, shuffled]) => {
        expect(sorted(shuffled)).toEqual(sorted(list));
      }),
    );
  });
});

describe("fillReferral", () => {
  const bare: ReferralDetails = { source: null, type: null, adId: null, adsContext: null };
  const full: ReferralDetails = { source: "ADS", type: "OPEN_THREAD", adId: "ad_1", adsContext: '{"ad_title":"t"}' };

  test("keeps the first report and fills its gaps from the second, in either order", () => {
    expect(fillReferral(bare, full)).toEqual(full);
    expect(fillReferral(full, bare)).toEqual(full);
  });

  test("never overwrites a detail the first report had", () => {
    expect(fillReferral({ ...full, source: "SHORTLINKS" }, full).source).toBe("SHORTLINKS");
  });

  test("with nothing before it, the report is taken as it is", () => {
    expect(fillReferral(undefined, bare)).toBe(bare);
  });
});
