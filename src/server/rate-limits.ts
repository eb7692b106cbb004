import rateLimit from "@fastify/rate-limit";
import { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bearerKey, Caller, hashKey } from "../auth/api-key.service";
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
  /** Counts a request under the API key it bears, and under its address when it has no valid key; 429 once over. */
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
  const limiter = async (max: number, keyGenerator?: (request: FastifyRequest) => Promise<string>): Promise<Limiter> => {
    if (max === 0) return async () => undefined;
    // The library counts a request once per registration: each limiter has its own, so one request can count in both.
    let count!: ReturnType<FastifyInstance["rateLimit"]>;
    await app.register(async (scope) => {
      await scope.register(rateLimit, {
        global: false,
        errorResponseBuilder: (_request, { ttl }) => new RefgraphError("RATE_LIMITED", `Too many requests; retry after ${Math.ceil(ttl / 1000)} seconds.`),
      });
      count = scope.rateLimit({ max, timeWindow: windowSeconds * 1000, cache: KEYS_REMEMBERED, ...(keyGenerator && { keyGenerator }) });
    });
    return (request, reply) => count.call(app, request, reply);
  };
  // By the key's hash, so a flood with a valid key is refused before the key is looked up in the database.
  const byKey = await limiter(perKey, async (request) => hashKey(bearerKey(request.headers.authorization)!));
  // The library's default key: the address, IPv6 by /64 (one host's usual allocation).
  const byAddress = await limiter(perAddress);
  return {
    async byCaller(request, reply) {
      if (bearerKey(request.headers.authorization)) {
        await byKey(request, reply);
        if (reply.sent || (await callerOf(request))) return;
      }
      await byAddress(request, reply);
    },
    byAddress,
  };
}
