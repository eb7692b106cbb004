/** A caller's query-cost budget: a token bucket that refills at a steady rate up to its capacity (Shopify's model). */
export interface BudgetLimits {
  capacity: number;
  restorePerSecond: number;
}

export interface Bucket {
  /** Cost points left at `at` (ms since 1970). */
  available: number;
  at: number;
}

export type Draw =
  | { allowed: true; bucket: Bucket }
  | { allowed: false; bucket: Bucket; retryAfterSeconds: number };

/** The points a bucket holds at `now`: what it had, plus what has been restored since, up to capacity. */
export function availableAt(bucket: Bucket | undefined, now: number, limits: BudgetLimits): number {
  if (!bucket) return limits.capacity;
  return Math.min(limits.capacity, bucket.available + (Math.max(0, now - bucket.at) / 1000) * limits.restorePerSecond);
}

/** Takes `cost` points at `now` if the bucket holds them; otherwise takes nothing and says how long until it will. */
export function drawCost(bucket: Bucket | undefined, cost: number, now: number, limits: BudgetLimits): Draw {
  const available = availableAt(bucket, now, limits);
  if (cost <= available) return { allowed: true, bucket: { available: available - cost, at: now } };
  return { allowed: false, bucket: { available, at: now }, retryAfterSeconds: Math.ceil((cost - available) / limits.restorePerSecond) };
}

/** Every caller's bucket. A full bucket is the same as none, so full ones are dropped: memory follows recent callers only. */
export class CostBudgets {
  private readonly buckets = new Map<string, Bucket>();
  private sweepAt = 1024;

  constructor(readonly limits: Readonly<BudgetLimits>) {}

  draw(key: string, cost: number, now: number): Draw {
    const draw = drawCost(this.buckets.get(key), cost, now, this.limits);
    this.buckets.set(key, draw.bucket);
    if (this.buckets.size >= this.sweepAt) {
      for (const [other, bucket] of this.buckets) if (availableAt(bucket, now, this.limits) >= this.limits.capacity) this.buckets.delete(other);
      this.sweepAt = Math.max(1024, 2 * this.buckets.size);
    }
    return draw;
  }

  /** What `key` has left at `now`, without drawing. */
  available(key: string, now: number): number {
    return availableAt(this.buckets.get(key), now, this.limits);
  }

  get size(): number {
    return this.buckets.size;
  }
}
