import { CostBudgets, drawCost } from "../../src/graphql/cost-budget";

const LIMITS = { capacity: 1000, restorePerSecond: 50 };
const T = 1_700_000_000_000;

describe("drawCost", () => {
  test("a caller never seen has a full bucket", () => {
    expect(drawCost(undefined, 1000, T, LIMITS)).toEqual({ allowed: true, bucket: { available: 0, at: T } });
  });

  test("a cost over what is left takes nothing and says in how many whole seconds it will fit", () => {
    const draw = drawCost({ available: 100, at: T }, 251, T, LIMITS);
    expect(draw).toEqual({ allowed: false, bucket: { available: 100, at: T }, retryAfterSeconds: 4 });
  });

  test("points come back at the restore rate, and the bucket holds no more than its capacity", () => {
    expect(drawCost({ available: 0, at: T }, 100, T + 2000, LIMITS)).toEqual({ allowed: true, bucket: { available: 0, at: T + 2000 } });
    expect(drawCost({ available: 0, at: T }, 1, T + 3_600_000, LIMITS)).toEqual({ allowed: true, bucket: { available: 999, at: T + 3_600_000 } });
  });

  test("waiting the seconds it said is enough", () => {
    const refused = drawCost({ available: 10, at: T }, 500, T, LIMITS);
    if (refused.allowed) throw new Error("expected a refusal");
    expect(drawCost(refused.bucket, 500, T + refused.retryAfterSeconds * 1000, LIMITS).allowed).toBe(true);
    expect(drawCost(refused.bucket, 500, T + refused.retryAfterSeconds * 1000 - 1000, LIMITS).allowed).toBe(false);
  });

  test("a clock that goes back restores nothing", () => {
    expect(drawCost({ available: 10, at: T }, 11, T - 60_000, LIMITS).allowed).toBe(false);
  });
});

describe("CostBudgets", () => {
  test("each key has its own bucket", () => {
    const budgets = new CostBudgets(LIMITS);
    expect(budgets.draw("key a", 1000, T).allowed).toBe(true);
    expect(budgets.draw("key a", 1, T).allowed).toBe(false);
    expect(budgets.draw("key b", 1000, T).allowed).toBe(true);
    expect(budgets.available("key a", T + 1000)).toBe(50);
  });

  test("buckets that have filled up again are forgotten, so memory follows recent callers only", () => {
    const budgets = new CostBudgets(LIMITS);
    for (let i = 0; i < 5000; i++) budgets.draw(`address ${i}`, 1000, T);
    // 20 s later every one of them is full again.
    for (let i = 0; i < 5000; i++) budgets.draw(`other ${i}`, 1, T + 20_000);
    expect(budgets.size).toBeLessThan(6000);
    expect(budgets.available("address 1", T + 20_000)).toBe(1000);
  });
});
