/** Label values and derived numbers for refgraph's metrics: plain functions, so each rule has one place and a unit test. */

/**
 * The route label: Fastify's route pattern (`/exports/:name`), never the URL a client sent, so a scanner probing
 * random paths cannot create a series per path. Requests no route matched (404, 405) share one label.
 */
export const routeLabel = (pattern: string | undefined): string => pattern ?? "unmatched";

/** 2xx, 4xx, 5xx…: latency by class keeps one series per route and method for all the statuses of a class. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/**
 * How many seconds the analytics copy is behind: none when no referral written since its last catch-up waits,
 * otherwise the time since that catch-up began (every later write may be missing from it), or since `startedAt`
 * when it never caught up.
 */
export function analyticsLagSeconds(rowsBehind: number, caughtUpAt: number | null, startedAt: number, now: number): number {
  if (rowsBehind === 0) return 0;
  return Math.max(0, now - (caughtUpAt ?? startedAt)) / 1000;
}
