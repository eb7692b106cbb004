import { SendOutcome } from "../postproxy/send-outcome";
import { GreetingStatus } from "./greeting.entity";

// What one attempt's outcome does to a greeting in the outbox: pure, so every branch is unit-tested.

/** Attempts before a greeting that keeps failing transiently is given up (FAILED). */
export const MAX_ATTEMPTS = 6;
const FIRST_RETRY_MS = 30_000;
const LONGEST_RETRY_MS = 60 * 60_000;

export interface AttemptResult {
  status: GreetingStatus.PENDING | GreetingStatus.QUEUED | GreetingStatus.FAILED;
  error: string | null;
  postproxyMessageId: string | null;
  sentAt: Date | null;
  nextAttemptAt: Date | null;
}

/** The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour, and never less than Retry-After. */
export function retryDelayMs(attempts: number, retryAfterMs: number | null): number {
  const backoff = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.max(backoff, retryAfterMs ?? 0);
}

/** The greeting after attempt number `attempts` ended with `outcome`. */
export function afterAttempt(outcome: SendOutcome, attempts: number, now: Date): AttemptResult {
  if (outcome.ok) return { status: GreetingStatus.PENDING, error: null, postproxyMessageId: outcome.message.id, sentAt: now, nextAttemptAt: null };
  const failed = { postproxyMessageId: null, sentAt: null, nextAttemptAt: null };
  if (!outcome.transient) return { ...failed, status: GreetingStatus.FAILED, error: outcome.error };
  if (attempts >= MAX_ATTEMPTS) return { ...failed, status: GreetingStatus.FAILED, error: `gave up after ${attempts} attempts: ${outcome.error}` };
  return { ...failed, status: GreetingStatus.QUEUED, error: outcome.error, nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts, outcome.retryAfterMs)) };
}

const DEFAULT_PAUSE_MS = 10_000;
const LONGEST_PAUSE_MS = 60 * 60_000;

/** After a 429, every send waits until this: what Retry-After asked (10 s when it did not say), at most an hour. */
export function sendsPausedUntil(now: Date, retryAfterMs: number | null): Date {
  return new Date(now.getTime() + Math.min(LONGEST_PAUSE_MS, retryAfterMs ?? DEFAULT_PAUSE_MS));
}

export function sendsPaused(now: Date, until: Date | null): boolean {
  return until !== null && now.getTime() < until.getTime();
}
