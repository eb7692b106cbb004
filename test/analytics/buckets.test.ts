import fc from "fast-check";
import { bucketIndex, bucketStart, Interval, isTimeZone, planBuckets } from "../../src/analytics/buckets";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INTERVALS: Interval[] = ["HOUR", "DAY", "WEEK", "MONTH"];
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago"];

/** The start of the bucket containing `iso`, as an ISO string. */
const startOf = (interval: Interval, zone: string, iso: string) => bucketStart(interval, zone, new Date(iso)).toISOString();

const plan = (interval: Interval, timeZone: string, from: string, to: string, maxBuckets = 10_000) =>
  planBuckets({ interval, timeZone, from: Date.parse(from), to: Date.parse(to), maxBuckets });

describe("bucketStart", () => {
  test("in UTC, buckets start on the hour, at midnight, at midnight on Monday and at midnight on the 1st", () => {
    const thursday = "2026-05-14T13:45:12.345Z";
    expect(startOf("HOUR", "UTC", thursday)).toBe("2026-05-14T13:00:00.000Z");
    expect(startOf("DAY", "UTC", thursday)).toBe("2026-05-14T00:00:00.000Z");
    expect(startOf("WEEK", "UTC", thursday)).toBe("2026-05-11T00:00:00.000Z");
    expect(startOf("MONTH", "UTC", thursday)).toBe("2026-05-01T00:00:00.000Z");
  });

  test("an instant exactly at a bucket start begins that bucket, and one millisecond earlier belongs to the one before", () => {
    expect(startOf("DAY", "UTC", "2026-05-14T00:00:00.000Z")).toBe("2026-05-14T00:00:00.000Z");
    expect(startOf("DAY", "UTC", "2026-05-13T23:59:59.999Z")).toBe("2026-05-13T00:00:00.000Z");
  });

  test("in Berlin, the spring-forward day 2026-03-29 is 23 hours long", () => {
    expect(startOf("DAY", "Europe/Berlin", "2026-03-29T12:00:00Z")).toBe("2026-03-28T23:00:00.000Z");
    expect(startOf("DAY", "Europe/Berlin", "2026-03-29T21:59:59.999Z")).toBe("2026-03-28T23:00:00.000Z");
    expect(startOf("DAY", "Europe/Berlin", "2026-03-29T22:00:00Z")).toBe("2026-03-29T22:00:00.000Z");
  });

  test("in Berlin, the fall-back day 2026-10-25 is 25 hours long", () => {
    expect(startOf("DAY", "Europe/Berlin", "2026-10-25T12:00:00Z")).toBe("2026-10-24T22:00:00.000Z");
    expect(startOf("DAY", "Europe/Berlin", "2026-10-25T22:59:59.999Z")).toBe("2026-10-24T22:00:00.000Z");
    expect(startOf("DAY", "Europe/Berlin", "2026-10-25T23:00:00Z")).toBe("2026-10-25T23:00:00.000Z");
  });

  test("on Berlin's fall-back night, 02:30 before and 02:30 after the change are in two distinct hour buckets", () => {
    expect(startOf("HOUR", "Europe/Berlin", "2026-10-25T00:30:00Z")).toBe("2026-10-25T00:00:00.000Z"); // 02:30 CEST
    expect(startOf("HOUR", "Europe/Berlin", "2026-10-25T01:30:00Z")).toBe("2026-10-25T01:00:00.000Z"); // 02:30 CET
  });

  test("on Berlin's spring-forward night, the hour after 01:00 starts at 03:00", () => {
    expect(startOf("HOUR", "Europe/Berlin", "2026-03-29T00:59:59.999Z")).toBe("2026-03-29T00:00:00.000Z"); // 01:59 CET
    expect(startOf("HOUR", "Europe/Berlin", "2026-03-29T01:00:00Z")).toBe("2026-03-29T01:00:00.000Z"); // 03:00 CEST
  });

  test("in New York, the fall-back day 2026-11-01 is 25 hours long", () => {
    expect(startOf("DAY", "America/New_York", "2026-11-01T12:00:00Z")).toBe("2026-11-01T04:00:00.000Z");
    expect(startOf("DAY", "America/New_York", "2026-11-02T04:59:59.999Z")).toBe("2026-11-01T04:00:00.000Z");
    expect(startOf("DAY", "America/New_York", "2026-11-02T05:00:00Z")).toBe("2026-11-02T05:00:00.000Z");
  });

  test("in New York, the week holding the spring-forward Sunday runs from Monday 00:00 EST to Monday 00:00 EDT", () => {
    expect(startOf("WEEK", "America/New_York", "2026-03-08T12:00:00Z")).toBe("2026-03-02T05:00:00.000Z");
    expect(startOf("WEEK", "America/New_York", "2026-03-09T03:59:59.999Z")).toBe("2026-03-02T05:00:00.000Z");
    expect(startOf("WEEK", "America/New_York", "2026-03-09T04:00:00Z")).toBe("2026-03-09T04:00:00.000Z");
  });

  test("in New York, a month starts at local midnight of the 1st, in winter and in summer time", () => {
    expect(startOf("MONTH", "America/New_York", "2026-03-01T03:00:00Z")).toBe("2026-02-01T05:00:00.000Z"); // Feb 28, 22:00
    expect(startOf("MONTH", "America/New_York", "2026-04-15T12:00:00Z")).toBe("2026-04-01T04:00:00.000Z");
  });

  test("in Kolkata (+05:30), hours start at half past the UTC hour and days at 18:30 UTC", () => {
    expect(startOf("HOUR", "Asia/Kolkata", "2026-05-14T13:45:00Z")).toBe("2026-05-14T13:30:00.000Z");
    expect(startOf("HOUR", "Asia/Kolkata", "2026-05-14T13:15:00Z")).toBe("2026-05-14T12:30:00.000Z");
    expect(startOf("DAY", "Asia/Kolkata", "2026-05-14T13:45:00Z")).toBe("2026-05-13T18:30:00.000Z");
    expect(startOf("MONTH", "Asia/Kolkata", "2026-05-31T19:00:00Z")).toBe("2026-05-31T18:30:00.000Z"); // June 1, 00:30
  });

  test("on Lord Howe Island, where the clock moves by 30 minutes, each offset change also starts an hour bucket", () => {
    // 2026-04-05 02:00 (+11:00) becomes 01:30 (+10:30): 01:00-02:00, then the repeated 01:30-02:00, then 02:00-03:00.
    expect(startOf("HOUR", "Australia/Lord_Howe", "2026-04-04T14:45:00Z")).toBe("2026-04-04T14:00:00.000Z");
    expect(startOf("HOUR", "Australia/Lord_Howe", "2026-04-04T15:10:00Z")).toBe("2026-04-04T15:00:00.000Z");
    expect(startOf("HOUR", "Australia/Lord_Howe", "2026-04-04T15:40:00Z")).toBe("2026-04-04T15:30:00.000Z");
    // 2026-10-04 02:00 (+10:30) becomes 02:30 (+11:00): 01:00-02:00, then 02:30-03:00, then 03:00-04:00.
    expect(startOf("HOUR", "Australia/Lord_Howe", "2026-10-03T15:15:00Z")).toBe("2026-10-03T14:30:00.000Z");
    expect(startOf("HOUR", "Australia/Lord_Howe", "2026-10-03T15:45:00Z")).toBe("2026-10-03T15:30:00.000Z");
    expect(startOf("HOUR", "Australia/Lord_Howe", "2026-10-03T16:10:00Z")).toBe("2026-10-03T16:00:00.000Z");
  });

  test("on Lord Howe Island, the day the clock goes back is 24.5 hours long", () => {
    expect(startOf("DAY", "Australia/Lord_Howe", "2026-04-05T12:00:00Z")).toBe("2026-04-04T13:00:00.000Z");
    expect(startOf("DAY", "Australia/Lord_Howe", "2026-04-05T13:29:59.999Z")).toBe("2026-04-04T13:00:00.000Z");
    expect(startOf("DAY", "Australia/Lord_Howe", "2026-04-05T13:30:00Z")).toBe("2026-04-05T13:30:00.000Z");
  });

  test("in Santiago, clocks skip midnight on 2026-09-06, so that day starts at 01:00 and is 23 hours long", () => {
    expect(startOf("DAY", "America/Santiago", "2026-09-06T12:00:00Z")).toBe("2026-09-06T04:00:00.000Z");
    expect(startOf("DAY", "America/Santiago", "2026-09-06T03:59:59.999Z")).toBe("2026-09-05T04:00:00.000Z");
    expect(startOf("DAY", "America/Santiago", "2026-09-07T02:59:59.999Z")).toBe("2026-09-06T04:00:00.000Z");
    expect(startOf("DAY", "America/Santiago", "2026-09-07T03:00:00Z")).toBe("2026-09-07T03:00:00.000Z");
  });

  test("in Santiago, clocks go back from 24:00 to 23:00 on 2026-04-04, so that day is 25 hours long", () => {
    expect(startOf("DAY", "America/Santiago", "2026-04-05T03:00:00Z")).toBe("2026-04-04T03:00:00.000Z"); // 23:00 again
    expect(startOf("DAY", "America/Santiago", "2026-04-05T03:59:59.999Z")).toBe("2026-04-04T03:00:00.000Z");
    expect(startOf("DAY", "America/Santiago", "2026-04-05T04:00:00Z")).toBe("2026-04-05T04:00:00.000Z");
  });

  test.each([
    "2026-05-10T22:00:00Z", // Monday 00:00 in Berlin
    "2026-05-12T10:00:00Z",
    "2026-05-14T10:00:00Z",
    "2026-05-17T10:00:00Z", // Sunday
    "2026-05-17T21:59:59.999Z", // Sunday 23:59:59.999
  ])("in Berlin, %s is in the week that starts on Monday 2026-05-11", (iso) => {
    expect(startOf("WEEK", "Europe/Berlin", iso)).toBe("2026-05-10T22:00:00.000Z");
  });

  test("in Berlin, the last moment of January is in January and midnight of February 1st starts February", () => {
    expect(startOf("MONTH", "Europe/Berlin", "2026-01-31T22:59:59.999Z")).toBe("2025-12-31T23:00:00.000Z");
    expect(startOf("MONTH", "Europe/Berlin", "2026-01-31T23:00:00Z")).toBe("2026-01-31T23:00:00.000Z");
  });
});

describe("isTimeZone", () => {
  test.each(ZONES)("%p is a time zone", (name) => {
    expect(isTimeZone(name)).toBe(true);
  });

  test.each(["Mars/Phobos", "", "utc+1", "UTC+01:00", "Berlin", " Europe/Berlin", "Europe/Berlin "])("%p is not a time zone", (name) => {
    expect(isTimeZone(name)).toBe(false);
  });
});

describe("planBuckets", () => {
  const starts = (buckets: number[]) => buckets.map((start) => new Date(start).toISOString());

  test("a range's buckets run from the one containing `from` to the one containing the last instant before `to`", () => {
    expect(starts(plan("DAY", "Europe/Berlin", "2026-03-28T10:00:00Z", "2026-03-31T10:00:00Z")!)).toEqual([
      "2026-03-27T23:00:00.000Z",
      "2026-03-28T23:00:00.000Z",
      "2026-03-29T22:00:00.000Z",
      "2026-03-30T22:00:00.000Z",
    ]);
  });

  test("a range ending exactly at a bucket start does not include that bucket", () => {
    expect(starts(plan("DAY", "UTC", "2026-05-01T00:00:00Z", "2026-05-04T00:00:00Z")!)).toEqual([
      "2026-05-01T00:00:00.000Z",
      "2026-05-02T00:00:00.000Z",
      "2026-05-03T00:00:00.000Z",
    ]);
  });

  test("Berlin's fall-back day has 25 hour buckets, an hour apart", () => {
    const buckets = plan("HOUR", "Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")!;
    expect(buckets).toHaveLength(25);
    expect(buckets.every((start, i) => start === Date.parse("2026-10-24T22:00:00Z") + i * HOUR)).toBe(true);
  });

  test("an empty range has no buckets", () => {
    expect(plan("DAY", "UTC", "2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z")).toEqual([]);
  });

  test("a range of exactly maxBuckets buckets is planned, and one more bucket than allowed gives null", () => {
    expect(plan("HOUR", "UTC", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", 24)).toHaveLength(24);
    expect(plan("HOUR", "UTC", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", 23)).toBeNull();
    expect(plan("HOUR", "UTC", "2026-05-01T00:30:00Z", "2026-05-02T00:30:00Z", 24)).toBeNull();
  });

  test("a century of hours is refused against a limit of ten thousand", () => {
    expect(plan("HOUR", "Europe/Berlin", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", 10_000)).toBeNull();
  });

  test("for any range, the buckets start at bucket starts, follow one another without gaps and cover [from, to)", () => {
    const longestRange: Record<Interval, number> = { HOUR: 3 * DAY, DAY: 60 * DAY, WEEK: 400 * DAY, MONTH: 1100 * DAY };
    fc.assert(
      fc.property(
        fc.constantFrom(...INTERVALS),
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.parse("2025-06-01T00:00:00Z"), max: Date.parse("2027-06-01T00:00:00Z") }),
        fc.integer({ min: 1, max: 1000 }),
        (interval, zone, from, permille) => {
          const to = from + Math.ceil((longestRange[interval] * permille) / 1000);
          const buckets = planBuckets({ interval, timeZone: zone, from, to, maxBuckets: 10_000 })!;
          const startAt = (ms: number) => bucketStart(interval, zone, new Date(ms)).getTime();
          expect(startAt(from)).toBe(buckets[0]);
          expect(startAt(to - 1)).toBe(buckets[buckets.length - 1]);
          buckets.forEach((start, i) => {
            expect(startAt(start)).toBe(start);
            if (i === 0) return;
            expect(startAt(start - 1)).toBe(buckets[i - 1]);
            expect(start).toBeGreaterThan(buckets[i - 1]);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

// bucketIndex over a plan puts every instant in the bucket bucketStart names.

// A range crossing both 2026 offset changes of every zone here that has them.
const FROM = "2026-02-20T09:17:00Z";
const TO = "2026-11-20T15:42:00Z";
const OFFSET_CHANGES_2026 = [
  "2026-03-08T07:00:00Z", // New York
  "2026-03-29T01:00:00Z", // Berlin
  "2026-04-04T15:00:00Z", // Lord Howe
  "2026-04-05T03:00:00Z", // Santiago
  "2026-09-06T04:00:00Z", // Santiago
  "2026-10-03T15:30:00Z", // Lord Howe
  "2026-10-25T01:00:00Z", // Berlin
  "2026-11-01T06:00:00Z", // New York
].map(Date.parse);
const AROUND_A_CHANGE = [-90, -60, -30, -1, 0, 1, 30, 60, 90].flatMap((minutes) => [minutes * 60_000 - 1, minutes * 60_000, minutes * 60_000 + 1]);

describe("bucketIndex", () => {
  /** Instants bucketIndex puts in another bucket than the one bucketStart names (the first ten). */
  function misplaced(interval: Interval, zone: string, instants: number[]): string[] {
    const starts = plan(interval, zone, FROM, TO)!;
    const wrong: string[] = [];
    for (const ms of instants) {
      const expected = bucketStart(interval, zone, new Date(ms)).getTime();
      const found = starts[bucketIndex(starts, ms)];
      if (found !== expected) wrong.push(`${new Date(ms).toISOString()}: in ${new Date(found).toISOString()}, expected ${new Date(expected).toISOString()}`);
    }
    return wrong.slice(0, 10);
  }

  test.each(INTERVALS.flatMap((interval) => ZONES.map((zone): [Interval, string] => [interval, zone])))(
    "%s buckets in %s are right at every bucket start, 1 ms before it, and around each offset change",
    (interval, zone) => {
      const starts = plan(interval, zone, FROM, TO)!;
      const instants = [
        ...starts.flatMap((start) => [start - 1, start]),
        ...OFFSET_CHANGES_2026.flatMap((change) => AROUND_A_CHANGE.map((delta) => change + delta)),
        Date.parse(FROM),
        Date.parse(TO) - 1,
      ].filter((ms) => ms >= starts[0] && ms < Date.parse(TO));
      expect(misplaced(interval, zone, instants)).toEqual([]);
    },
  );

  test("buckets are right for random instants in the range, in every interval and zone", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...INTERVALS),
        fc.constantFrom(...ZONES),
        fc.array(fc.integer({ min: Date.parse(FROM), max: Date.parse(TO) - 1 }), { minLength: 1, maxLength: 300 }),
        (interval, zone, instants) => {
          expect(misplaced(interval, zone, instants)).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
