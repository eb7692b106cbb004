import { readinessFrom } from "../../src/server/readiness";

describe("readiness from the latest write", () => {
  test("a write committed within the last second says ready", () => {
    expect(readinessFrom({ atMs: 10_000, fault: null }, 10_000)).toEqual({ ready: true });
    expect(readinessFrom({ atMs: 10_000, fault: null }, 11_000)).toEqual({ ready: true });
  });

  test("a write refused by a fault within the last second says not ready, naming the fault", () => {
    expect(readinessFrom({ atMs: 10_000, fault: "disk_full" }, 10_500)).toEqual({ ready: false, reason: "Writes fail: disk_full." });
  });

  test("with no write in the last second, or none at all, a probe decides", () => {
    expect(readinessFrom(undefined, 10_000)).toBe("probe");
    expect(readinessFrom({ atMs: 10_000, fault: null }, 11_001)).toBe("probe");
    expect(readinessFrom({ atMs: 10_000, fault: "connection" }, 11_001)).toBe("probe");
  });
});
