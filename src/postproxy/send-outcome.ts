// What an answer to `POST /api/chats/:id/messages` means for a greeting (facts: shared/postproxy-api.md §3).
// Pure, so every status is unit-tested; the client only adds the network's own failures (timeouts, drops).

/** An outbound message as Postproxy answers it: pending until `message.sent` or `message.failed` arrives. */
export interface PostproxyMessage {
  id: string;
  status: string;
}

export type SendFailureKind =
  /** Postproxy refused the API key: every send fails until POSTPROXY_API_KEY is fixed. */
  | "UNAUTHORIZED"
  /** Postproxy knows no such chat. */
  | "NOT_FOUND"
  /** Postproxy refused this message (400, 422: outside the messaging window, say). */
  | "REJECTED"
  /** A request with the same Idempotency-Key is still in flight. */
  | "CONFLICT"
  | "RATE_LIMITED"
  | "SERVER_ERROR"
  | "TIMEOUT"
  | "CONNECTION_FAILED";

export type SendOutcome =
  | { ok: true; message: PostproxyMessage }
  | {
      ok: false;
      kind: SendFailureKind;
      /** Worth sending again later (with the same Idempotency-Key, so Postproxy sends it at most once). */
      transient: boolean;
      error: string;
      /** How long Postproxy asked us to wait (Retry-After), when it said. */
      retryAfterMs: number | null;
    };

const TRANSIENT: ReadonlySet<SendFailureKind> = new Set(["CONFLICT", "RATE_LIMITED", "SERVER_ERROR", "TIMEOUT", "CONNECTION_FAILED"]);

export function sendFailure(kind: SendFailureKind, error: string, retryAfterMs: number | null = null): SendOutcome {
  return { ok: false, kind, transient: TRANSIENT.has(kind), error, retryAfterMs };
}

/** A Retry-After header (delay in seconds, or an HTTP date) as milliseconds from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | null {
  const value = header?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date is always in GMT (RFC 9110); Date.parse alone would also read "-5" as a year.
  if (!value.endsWith("GMT")) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The outcome of an HTTP answer with this status, body text and Retry-After header. */
export function sendOutcome(status: number, bodyText: string, retryAfter: string | null, now: number): SendOutcome {
  const body = parseJson(bodyText);
  const said = (fallback: string) => errorText(body) ?? fallback;
  if (status >= 200 && status < 300) {
    const message = (body as { id?: unknown; status?: unknown } | null) ?? {};
    // Sent again with the same Idempotency-Key, Postproxy answers with the same message.
    if (typeof message.id !== "string" || message.id === "")
      return sendFailure("SERVER_ERROR", `Postproxy answered ${status} without a message id`);
    return { ok: true, message: { id: message.id, status: typeof message.status === "string" ? message.status : "pending" } };
  }
  switch (status) {
    case 401:
      return sendFailure("UNAUTHORIZED", `Postproxy refused the API key (${said("401 Unauthorized")}); check POSTPROXY_API_KEY`);
    case 404:
      return sendFailure("NOT_FOUND", `Postproxy knows no such chat (${said("404 Not found")})`);
    case 409:
      return sendFailure("CONFLICT", "a send with the same Idempotency-Key is still in flight at Postproxy", retryAfterMs(retryAfter, now));
    case 429:
      return sendFailure("RATE_LIMITED", `Postproxy is rate limiting (${said("429 Too Many Requests")})`, retryAfterMs(retryAfter, now));
  }
  if (status >= 500) return sendFailure("SERVER_ERROR", `Postproxy failed with ${status} (${said("no detail")})`, retryAfterMs(retryAfter, now));
  return sendFailure("REJECTED", `Postproxy rejected the message with ${status}: ${said("no detail")}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Postproxy's error bodies: `{"error": "…"}`, `{"errors": ["…"]}`, `{"status": 400, "error": "…", "message": "…"}`. */
function errorText(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const { errors, message, error } = body as { errors?: unknown; message?: unknown; error?: unknown };
  if (Array.isArray(errors) && errors.length > 0) return errors.map(String).join("; ");
  if (typeof message === "string" && message) return message;
  if (typeof error === "string" && error) return error;
  return null;
}
