"use strict";
// Greeting outbox benchmark: `npm run bench:greetings` (after `npm run build`). Method and results: docs/benchmarks.md.
// Queues a backlog of greetings, starts refgraph (in this process) against the fake Postproxy, and times how long
// the worker takes until every one was accepted by Postproxy (PENDING or PUBLISHED): greetings/s.
//
//   BENCH_GREETINGS      backlog size (default 5000)
//   BENCH_DATABASE_URL   postgres://… runs on a fresh database created beside the one named (dropped at the end);
//                        default a fresh SQLite file in a temp folder
//   BENCH_RUNS           measured runs, each on a fresh database (default 3); the median is reported too

const { randomUUID } = require("node:crypto");
const { mkdtempSync, rmSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");

let buildApp, loadConfig, openStore, entities, FakePostproxy, freshPostgres;
try {
  ({ buildApp } = require("../dist/src/app"));
  ({ loadConfig } = require("../dist/src/config/config"));
  ({ openStore } = require("../dist/src/db/data-source"));
  ({ entities } = require("../dist/src/entities"));
  ({ FakePostproxy } = require("../dist/src/dev/fake-postproxy"));
  ({ freshPostgres } = require("./server"));
} catch (error) {
  console.error(`bench/greetings.js needs the build output in dist/: run \`npm run build\` first (${error.message})`);
  process.exit(1);
}

const GREETINGS = Number(process.env.BENCH_GREETINGS || 5000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const API_KEY = "pp_bench_key_0123456789";
const SECRET = "whsec_bench_secret_0123456789";
const ROWS_PER_INSERT = 500;

async function database() {
  if (process.env.BENCH_DATABASE_URL) {
    const fresh = await freshPostgres(process.env.BENCH_DATABASE_URL);
    return { url: fresh.url, drop: fresh.drop };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "refgraph-bench-greetings-"));
  return { url: `sqlite:${path.join(dir, "refgraph.sqlite")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** The backlog, as QUEUED rows due now: what a burst of referrals leaves behind with a greeting rule at work. */
async function queueBacklog(db, postgres) {
  const now = Date.now();
  for (let from = 0; from < GREETINGS; from += ROWS_PER_INSERT) {
    const count = Math.min(ROWS_PER_INSERT, GREETINGS - from);
    const values = [];
    const rows = Array.from({ length: count }, (_, i) => {
      const n = from + i;
      values.push(randomUUID(), `ch_bench_${n}`, `bench:${n}`, `Hi there, welcome! (${n})`);
      const at = i * 4;
      const marker = (k) => (postgres ? `$${at + k}` : "?");
      return `(${marker(1)}, ${marker(2)}, ${marker(3)}, ${marker(4)}, 'QUEUED', 0, ${now}, ${now})`;
    });
    await db.query(`INSERT INTO greeting (id, chat_id, idempotency_key, body, status, attempts, next_attempt_at, created_at) VALUES ${rows.join(", ")}`, values);
  }
}

async function run() {
  const db = await database();
  const fake = new FakePostproxy({ apiKey: API_KEY, webhookSecret: SECRET, deliveryDelayMs: 20 });
  const config = loadConfig({
    DATABASE_URL: db.url,
    LOG_LEVEL: "warn",
    POSTPROXY_WEBHOOK_SECRET: SECRET,
    POSTPROXY_API_KEY: API_KEY,
    POSTPROXY_BASE_URL: await fake.start(),
    RATE_LIMIT_PER_KEY: "0",
    RATE_LIMIT_PER_ADDRESS: "0",
  });
  const store = await openStore(config.databaseUrl, { entities });
  await queueBacklog(store.writer, store.writer.options.type === "postgres");
  const started = Date.now();
  const app = await buildApp(config, store);
  await app.listen({ port: 0, host: "127.0.0.1" });
  fake.options.webhookUrl = `http://127.0.0.1:${app.server.address().port}/webhooks/postproxy`;
  try {
    for (;;) {
      const [{ left }] = await store.reader.query(`SELECT COUNT(*) AS left FROM greeting WHERE status IN ('QUEUED', 'SENDING')`);
      if (Number(left) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    const accepted = new Set(fake.requests.filter((request) => request.answer === 202).map((request) => request.idempotencyKey)).size;
    if (accepted !== GREETINGS) throw new Error(`Postproxy accepted ${accepted} greetings, not ${GREETINGS}`);
    const extra = fake.requests.length - GREETINGS;
    return { seconds, perSecond: GREETINGS / seconds, extra };
  } finally {
    await fake.settled();
    await app.close();
    await store.close();
    await fake.stop();
    await db.drop();
  }
}

async function main() {
  console.log(`greetings: backlog of ${GREETINGS} on ${process.env.BENCH_DATABASE_URL ? "PostgreSQL" : "SQLite"}, ${RUNS} runs`);
  const rates = [];
  for (let i = 1; i <= RUNS; i++) {
    const result = await run();
    rates.push(result.perSecond);
    console.log(`run ${i}: ${result.seconds.toFixed(1)} s, ${result.perSecond.toFixed(0)} greetings/s, ${result.extra} requests beyond one per greeting`);
  }
  rates.sort((a, b) => a - b);
  console.log(`median: ${rates[Math.floor(rates.length / 2)].toFixed(0)} greetings/s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
