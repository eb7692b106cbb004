import { Writable } from "node:stream";
import Fastify from "fastify";
import { QueryFailedError } from "typeorm";
import { loggerOptions } from "../../src/app";
import { RefgraphError } from "../../src/errors";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { app: Fastify({ logger: { ...loggerOptions("info"), stream } }), lines };
}

test("a failed query is logged with its message but without the parameters it carried", () => {
  const { app, lines } = capture();
  const error = new QueryFailedError("INSERT INTO message (body) VALUES (?)", ["my private message"], new Error("SQLITE_ERROR: no such table: message"));
  app.log.error({ err: error }, "webhook event FAILED");
  expect(lines.join("")).toContain("no such table: message");
  expect(lines.join("")).not.toContain("my private message");
  expect(lines.join("")).not.toContain("INSERT INTO");
});

test("an error wrapped by GraphQL is logged as its cause", () => {
  const { app, lines } = capture();
  const wrapped = new RefgraphError("BAD_USER_INPUT", "outer");
  Object.defineProperty(wrapped, "originalError", { value: new QueryFailedError("SELECT ?", ["secret-ref"], new Error("inner cause")) });
  app.log.error({ err: wrapped }, "GraphQL resolver failed");
  expect(lines.join("")).toContain("inner cause");
  expect(lines.join("")).not.toContain("secret-ref");
});

test("authorization and signature headers are redacted from request logs", () => {
  const { app, lines } = capture();
  app.log.info({ req: { headers: { authorization: "Bearer rg_topsecret", "x-postproxy-signature": "t=1,v1=abc" } } }, "request");
  expect(lines.join("")).not.toContain("rg_topsecret");
  expect(lines.join("")).not.toContain("v1=abc");
});
