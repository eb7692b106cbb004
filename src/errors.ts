import { GraphQLError } from "graphql";

/**
 * Every error code refgraph answers with, its HTTP status, and what it means.
 * README's error table is checked against this list by a test.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: { status: 401, meaning: "No API key, or one that is unknown or revoked." },
  FORBIDDEN: { status: 403, meaning: "The API key's scope does not allow this operation (a read key on a mutation)." },
  BAD_USER_INPUT: { status: 400, meaning: "An argument is invalid; the message names it." },
  NOT_FOUND: { status: 404, meaning: "The thing named by an argument does not exist, or no route has this path." },
  METHOD_NOT_ALLOWED: { status: 405, meaning: "The path exists but not for this HTTP method; the Allow header lists the methods it takes." },
  QUERY_TOO_COMPLEX: { status: 400, meaning: "The GraphQL document is too large, nested too deeply or would cost too much to run (see Limits)." },
  RATE_LIMITED: { status: 429, meaning: "Too many requests, or too much query cost, for this API key or address; retry after the Retry-After header's seconds." },
  BAD_REQUEST: { status: 400, meaning: "The request itself is malformed: a body that is not valid JSON, or a header or parameter HTTP does not allow." },
  INVALID_SIGNATURE: { status: 401, meaning: "A webhook's X-Postproxy-Signature is missing, malformed, stale, or matches no configured secret." },
  MALFORMED_EVENT: {
    status: 400,
    meaning: "A webhook body is not JSON, nests deeper than 64 levels, or lacks a string id or type that can be stored (at most 255 UTF-8 bytes, no NUL, no lone surrogate).",
  },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: "A request body is over its route's limit (see Limits)." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: "The body's Content-Type is missing or not one this route reads (application/json for /graphql)." },
  REQUEST_HEADER_FIELDS_TOO_LARGE: { status: 431, meaning: "The request's headers are over 16 KiB together." },
  MESSAGING_WINDOW_CLOSED: {
    status: 409,
    meaning: "The chat's 24-hour messaging window is closed (extensions.expiresAt says when it closed); a HUMAN_AGENT reply is allowed up to 7 days after the person's last message.",
  },
  POSTPROXY_NOT_CONFIGURED: { status: 503, meaning: "POSTPROXY_API_KEY is not set, so refgraph cannot send through Postproxy." },
  SERVICE_UNAVAILABLE: { status: 503, meaning: "The database did not answer, or refgraph is shutting down; nothing was stored and the request should be retried." },
  INTERNAL_SERVER_ERROR: { status: 500, meaning: "Something failed inside refgraph; details are in its log, not in the answer." },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

// Refused before any resolver runs, so the whole GraphQL response carries the HTTP status. An error inside one
// field leaves the rest of the answer intact: HTTP 200, with the code in errors[].extensions.code.
const REQUEST_LEVEL: ReadonlySet<ErrorCode> = new Set(["UNAUTHENTICATED", "FORBIDDEN", "QUERY_TOO_COMPLEX", "RATE_LIMITED"]);

/** An error a client can act on: its message names what is wrong and which argument. */
export class RefgraphError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** More for the client to act on, beside the code. */
    details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...(REQUEST_LEVEL.has(code) ? { http: { status: ERROR_CODES[code].status } } : {}), ...details, code } });
  }
}

/** An error of a code that may also come from one field (BAD_USER_INPUT), raised before execution: the whole answer takes its status. */
export const beforeExecution = (code: ErrorCode, message: string) => new RefgraphError(code, message, { http: { status: ERROR_CODES[code].status } });

export const unauthenticated = (message = "Send a valid API key as 'Authorization: Bearer <key>'.") =>
  new RefgraphError("UNAUTHENTICATED", message);
export const forbidden = (message: string) => new RefgraphError("FORBIDDEN", message);
export const badUserInput = (argument: string, problem: string) =>
  new RefgraphError("BAD_USER_INPUT", `Argument '${argument}' ${problem}.`);
export const notFound = (what: string) => new RefgraphError("NOT_FOUND", `${what} does not exist.`);

/**
 * What a log line keeps of an error: its type, message, code and stack. Never the SQL parameters a failed query
 * carries (webhook bodies, message text) or anything else attached to it.
 */
export function loggableError(error: unknown): { type: string; message: string; stack: string; code?: unknown } {
  const cause = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (!(cause instanceof Error)) return { type: typeof cause, message: String(cause), stack: "" };
  return { type: cause.name, message: cause.message, code: (cause as { code?: unknown }).code, stack: cause.stack ?? "" };
}
