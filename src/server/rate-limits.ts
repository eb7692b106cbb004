import rateLimit from "@fastify/rate-limit";
import { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Caller } from "../auth/api-key.service";
import { RefgraphError } from "../errors";

export interface RateLimitOptions {
  /** Requests per window per API key; 0 for no limit. */
  perKey: number;
  /** Requests per window per client address, for callers without a valid key and badly signed webhooks; 0 for no limit. */
  perAddress: number;
  /** How long a window lasts; each key's starts at its first request. */
  windowSeconds: number;
  /** The caller behind a request's Authorization header, authenticated once per request. */
  callerOf: (request: FastifyRequest) => Promise<Caller | null>;
}

export interface RateLimits {
  /** Counts a request under its API key, or under its address when it has no valid key; 429 once over. */
  byCaller(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** Counts a request under its client address (request.ip, as TRUST_PROXY decides it); 429 once over. */
  byAddress: Limiter;
}

type Limiter = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

// Each limiter forgets its least recently seen key beyond this many, so memory stays bounded whatever the traffic.
const KEYS_REMEMBERED = 10_000;

/**
 * Fixed windows counted in this process's memory: several instances each count their own. Answers over a
 * limit are 429 RATE_LIMITED with Retry-After and x-ratelimit-* headers.
 */
export async function rateLimits(app: FastifyInstance, { perKey, perAddress, windowSeconds, callerOf }: RateLimitOptions): Promise<RateLimits> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, { ttl }) => new RefgraphError("RATE_LIMITED", `Too many requests; retry after ${Math.ceil(ttl / 1000)} seconds.`),
  });
  const limiter = (max: number, keyGenerator?: (request: FastifyRequest) => Promise<string>): Limiter => {
    if (max === 0) return async () => undefined;
    const count = app.rateLimit({ max, timeWindow: windowSeconds * 1000, cache: KEYS_REMEMBERED, ...(keyGenerator && { keyGenerator }) });
    return (request, reply) => count.call(app, request, reply);
  };
  const byKey = limiter(perKey, async (request) => {
    const caller = (await callerOf(request))!;
    return `${caller.scope}:${caller.name}`;
  });
  // The library's default key: the address, IPv6 by /64 (one host's usual allocation).
  const byAddress = limiter(perAddress);
  return {
    async byCaller(request, reply) {
      if (perKey === 0 && perAddress === 0) return;
      await ((await callerOf(request)) ? byKey : byAddress)(request, reply);
    },
    byAddress,
  };
}
