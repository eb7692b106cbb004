import { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Config } from "../config/config";
import { ERROR_CODES, ErrorCode } from "../errors";
import { parseEnvelope } from "./envelope";
import { IngestService } from "./ingest.service";
import { IngestOutcome } from "./webhook-event.ingest";
import { verifySignature } from "./signature";

export const MAX_WEBHOOK_BYTES = 1024 * 1024;
export const WEBHOOK_PATH = "/webhooks/postproxy";

/** What ingesting a delivery came to: its outcome, or the error that kept it from being stored (answered 503). */
export type IngestResult = { outcome: IngestOutcome } | { error: unknown };

export function sendError(reply: FastifyReply, code: ErrorCode, message: string) {
  // The type is set again: a streamed answer (CSV) that failed before its first byte had set its own.
  return reply.code(ERROR_CODES[code].status).type("application/json; charset=utf-8").send({ error: message, code });
}

export interface WebhookRoutesOptions {
  config: Readonly<Config>;
  ingest: IngestService;
  /** Counts a badly signed delivery against its sender's address; throws RATE_LIMITED once over. */
  limitBadSignatures: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Told each ingest's result (metrics). */
  onIngest: (request: FastifyRequest, result: IngestResult) => void;
}

/**
 * POST /webhooks/postproxy: verify on the raw bytes, parse, and answer 200 only once the event is committed. Only
 * badly signed deliveries are rate limited: Postproxy's retries of good ones must never pile up behind a limit.
 */
export async function webhookRoutes(app: FastifyInstance, { config, ingest, limitBadSignatures, onIngest }: WebhookRoutesOptions) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.post(WEBHOOK_PATH, { bodyLimit: MAX_WEBHOOK_BYTES }, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const receivedAt = new Date();
    if (config.webhookSecrets.length > 0) {
      const signature = verifySignature({
        rawBody,
        header: request.headers["x-postproxy-signature"] as string | undefined,
        secrets: config.webhookSecrets,
        nowSeconds: Math.floor(receivedAt.getTime() / 1000),
        toleranceSeconds: config.webhookToleranceSeconds,
      });
      if (!signature.ok) {
        await limitBadSignatures(request, reply);
        return sendError(reply, "INVALID_SIGNATURE", signature.reason);
      }
    }
    const text = rawBody.toString();
    const parsed = parseEnvelope(text);
    if (!parsed.ok) return sendError(reply, "MALFORMED_EVENT", parsed.reason);
    const deliveryId = request.headers["x-postproxy-delivery"];
    try {
      const outcome = await ingest.ingest({
        envelope: parsed.envelope,
        rawBody: text,
        deliveryId: typeof deliveryId === "string" ? deliveryId : null,
        receivedAt,
      });
      onIngest(request, { outcome });
      return { id: parsed.envelope.id, ...outcome };
    } catch (error) {
      onIngest(request, { error });
      request.log.error({ err: error, eventId: parsed.envelope.id }, "webhook not stored");
      return sendError(reply, "SERVICE_UNAVAILABLE", "The event could not be stored; retry later.");
    }
  });
}
