"use strict";
// Campaign query benchmark: `npm run bench` (after `npm run build`). Method and results: docs/benchmarks.md.
//
//   BENCH_DATABASE_URL   the database to query (default sqlite:bench/data/refgraph.sqlite). When it holds no
//                        referrals yet, it is first filled by `refgraph seed` with the sizes below.
//   BENCH_RUNS           measured runs of each query (default 30), after 3 warm-up runs
//
// The server runs as in production (`node dist/src/main.js`, NODE_ENV=production, an admin key) in a process of its
// own; each query goes over HTTP, one at a time, timed until its whole answer has arrived.

const { execFileSync } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const { mkdtempSync, rmSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
let openDatabase, entities, startServer;
try {
  ({ openDatabase } = require("../dist/src/db/data-source"));
  ({ entities } = require("../dist/src/entities"));
  ({ startServer } = require("./server"));
} catch (error) {
  console.error(`bench/queries.js needs the build output in dist/: run \`npm run build\` first (${error.message})`);
  process.exit(1);
}

const DATABASE_URL = process.env.BENCH_DATABASE_URL || `sqlite:${path.join(ROOT, "bench", "data", "refgraph.sqlite")}`;
const RUNS = Number(process.env.BENCH_RUNS || 30);
const SEED = ["--referrals", "1000000", "--chats", "300000", "--refs", "5000", "--days", "365"];
const METRICS = "referrals uniqueChats newChats returningChats conversions conversionRate silentReferrals medianSecondsToFirstMessage p90SecondsToFirstMessage";
const stats = (args) => `{ campaignStats(${args}) { totals { ${METRICS} } rows { key { ref campaign channel bucket } metrics { ${METRICS} } } } }`;

const QUERIES = [
  ["groupBy [REF], LAST_30D", stats("groupBy: [REF], range: LAST_30D")],
  ["groupBy [], interval DAY, LAST_30D", stats("groupBy: [], interval: DAY, range: LAST_30D")],
  ["groupBy [REF], interval DAY, LAST_30D", stats("groupBy: [REF], interval: DAY, range: LAST_30D")],
  ["groupBy [CAMPAIGN, CHANNEL], LAST_90D, ALL_TOUCH 72 h", stats("groupBy: [CAMPAIGN, CHANNEL], range: LAST_90D, attribution: ALL_TOUCH, conversionWindowHours: 72")],
  ["groupBy [PLATFORM, SOURCE], LAST_7D, FIRST_TOUCH", stats("groupBy: [PLATFORM, SOURCE], range: LAST_7D, attribution: FIRST_TOUCH")],
  ["groupBy [], interval WEEK Europe/Berlin, ALL", stats(`groupBy: [], interval: WEEK, timezone: "Europe/Berlin", range: ALL`)],
];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
  const db = await openDatabase(DATABASE_URL, { entities });
  const [{ count }] = await db.query("SELECT COUNT(*) AS count FROM referral");
  await db.destroy();
  if (Number(count) === 0) {
    console.error(`${DATABASE_URL} holds no referrals: seeding it (refgraph seed ${SEED.join(" ")})`);
    execFileSync(process.execPath, [path.join(ROOT, "dist", "src", "cli", "main.js"), "seed", ...SEED], {
      env: { ...process.env, DATABASE_URL, NODE_ENV: "development" },
      stdio: "inherit",
    });
  }
  const adminKey = randomBytes(24).toString("hex");
  const dir = mkdtempSync(path.join(os.tmpdir(), "refgraph-bench-"));
  const startedAt = Date.now();
  // One client asking query after query, as fast as it can: the per-key rate limit would refuse it midway.
  const server = await startServer({ databaseUrl: DATABASE_URL, secret: "whsec_bench", adminKey, cwd: dir, env: { RATE_LIMIT_PER_KEY: "0" } });
  const headers = { "content-type": "application/json", authorization: `Bearer ${adminKey}` };
  const post = async (query) => (await fetch(`${server.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query }) })).text();
  try {
    const answer = JSON.parse(await post(QUERIES[0][1]));
    if (answer.errors) throw new Error(JSON.stringify(answer.errors));
    console.log(`${DATABASE_URL.replace(/\/\/[^@]*@/, "//")}: ${Number(answer.data.campaignStats.totals.referrals)} referrals in ${QUERIES[0][0]}; ${RUNS} runs per query after 3 warm-ups`);
    console.log(`(the first answer, which waits for the server to read every referral into memory, came ${((Date.now() - startedAt) / 1000).toFixed(1)} s after start)`);
    console.log(["query".padEnd(56), "p50 ms".padStart(8), "p99 ms".padStart(8), "rows".padStart(6)].join(" "));
    for (const [name, query] of QUERIES) {
      const times = [];
      let rows = 0;
      for (let run = -3; run < RUNS; run++) {
        const started = process.hrtime.bigint();
        const text = await post(query);
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        const body = JSON.parse(text);
        if (body.errors) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
        rows = body.data.campaignStats.rows.length;
        if (run >= 0) times.push(elapsed);
      }
      times.sort((a, b) => a - b);
      console.log([name.padEnd(56), percentile(times, 50).toFixed(1).padStart(8), percentile(times, 99).toFixed(1).padStart(8), String(rows).padStart(6)].join(" "));
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
