import { STATUS_CODES } from "node:http";
import { Socket } from "node:net";
import { ConnectionError, FastifyError, FastifyInstance } from "fastify";
import { ERROR_CODES, ErrorCode, RefgraphError } from "../errors";
import { sendError } from "../webhooks/webhook.route";

// The code answered for each 4xx status Fastify or a plugin may raise on its own.
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
  431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
};

/** The error code for a 4xx status refgraph did not choose itself (Fastify's, Node's, a plugin's). */
export function codeOfClientStatus(status: number): ErrorCode {
  return CODE_OF_STATUS[status] ?? "BAD_REQUEST";
}

/**
 * Fastify's clientErrorHandler: a request Node could not parse (headers over its 16 KiB maxHeaderSize, bytes that are
 * not HTTP, a request that took longer than requestTimeout) is answered on the raw socket, which is then closed.
 */
export function answerClientError(error: ConnectionError, socket: Socket) {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? ["REQUEST_HEADER_FIELDS_TOO_LARGE", ERROR_CODES.REQUEST_HEADER_FIELDS_TOO_LARGE.meaning]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? ["BAD_REQUEST", "The request did not arrive in time."]
        : ["BAD_REQUEST", "The request is not valid HTTP/1.1."];
  const status = ERROR_CODES[code].status;
  const body = JSON.stringify({ error: message, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Every answer that is not 2xx, Fastify's own included, as `{ error, code }`: unknown paths (404), known paths with
 * another method (405 with Allow), Fastify's 4xx (bad JSON, 413, 415…), and every request that arrives while the
 * server is closing (503 SERVICE_UNAVAILABLE; Fastify's return503OnClosing must be off); while closing, every answer
 * carries Connection: close.
 * Register before any route: it learns the routes as they are added.
 */
export function errorAnswers(app: FastifyInstance) {
  const methodsOf = new Map<string, Set<string>>();
  app.addHook("onRoute", (route) => {
    if (route.url === "*") return;
    const methods = methodsOf.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsOf.set(route.url, methods);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?", 1)[0];
    const methods = methodsOf.get(path);
    if (!methods) return sendError(reply, "NOT_FOUND", `No route has the path ${path}.`);
    const allowed = [...methods].sort().join(", ");
    return sendError(reply.header("allow", allowed), "METHOD_NOT_ALLOWED", `${path} takes ${allowed}, not ${request.method}.`);
  });

  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  // These hooks run on every request: callback style, so that the usual case (not closing) costs no promise.
  app.addHook("onRequest", (_request, reply, done) => {
    if (!closing) return done();
    sendError(reply, "SERVICE_UNAVAILABLE", "refgraph is shutting down; retry the request.");
  });
  // Answers while closing end their keep-alive connection, requests in flight when closing began included: close()
  // sweeps only the idle ones, and a busy one would hold the server open for Node's keep-alive timeout.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError | RefgraphError, request, reply) => {
    if (error instanceof RefgraphError) return sendError(reply, error.code, error.message);
    const status = error.statusCode ?? 500;
    if (status < 500) return sendError(reply, codeOfClientStatus(status), clientMessage(error, request.routeOptions.bodyLimit));
    request.log.error({ err: error }, "request failed");
    return sendError(reply, "INTERNAL_SERVER_ERROR", "Internal server error.");
  });
}

/** Fastify's message for a client error, but for the few whose message does not say what to do. */
function clientMessage(error: FastifyError, bodyLimit: number): string {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return `The body is over this route's limit of ${bodyLimit} bytes.`;
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return "The body's Content-Type is missing or not one this route reads; send application/json.";
  return error.message;
}
