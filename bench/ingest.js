"use strict";
// Webhook ingestion benchmark: `npm run bench:ingest` (after `npm run build`). Method and results: docs/benchmarks.md.
//
//   (default)            starts `node dist/src/main.js` on a free port with a fresh SQLite file in a temp folder
//   BENCH_DATABASE_URL   the server's database instead: postgres://… gets a fresh database created beside the one
//                        named (and dropped at the end); sqlite:<path> is used as given and kept
//   BENCH_URL            drives a server already running there; BENCH_SECRET is its webhook secret and
//                        BENCH_ADMIN_KEY (optional) a key that may read webhookEvents, for the database check
//   BENCH_SECONDS        length of each measured run (default 10); BENCH_WARMUP_SECONDS (default 3)
//   BENCH_CONNECTIONS    connections of the measured runs (default 16,64)

const { randomBytes } = require("node:crypto");
const { mkdtempSync, rmSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");

let freshPostgres, signatureHeader, sleep, startServer;
try {
  ({ signatureHeader } = require("../dist/src/webhooks/signature"));
  ({ freshPostgres, sleep, startServer } = require("./server"));
} catch (error) {
  console.error(`bench/ingest.js needs the build output in dist/: run \`npm run build\` first (${error.message})`);
  process.exit(1);
}
const autocannon = require("autocannon");

const SECONDS = positive("BENCH_SECONDS", 10);
const WARMUP_SECONDS = positive("BENCH_WARMUP_SECONDS", 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS || "16,64").split(",").map((n) => Number(n.trim()));
const CHATS = 10_000;
const REFS = Array.from({ length: 300 }, (_, i) => `${["spring_promo", "ig-bio", "story=swipe", "ad_set"][i % 4]}_${String(i).padStart(3, "0")}`);
const DAY_MS = 86_400_000;

function positive(name, fallback) {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return value;
}

/** A stream of distinct referral.received deliveries, shaped like Postproxy's (docs: /work/shared/postproxy-api.md). */
function deliveries() {
  const tag = randomBytes(4).toString("hex");
  const since = Date.now() - 30 * DAY_MS;
  let n = 0;
  return () => {
    n += 1;
    const chat = Math.floor(Math.random() * CHATS);
    // Random times within 30 days, so late deliveries (older than the chat's latest referral) are common.
    const receivedAt = since + Math.floor(Math.random() * 30 * DAY_MS);
    const id = `evt_bench_${tag}_${n}`;
    const body = JSON.stringify({
      id,
      object: "event",
      type: "referral.received",
      created_at: new Date(receivedAt + 1000).toISOString(),
      data: {
        object: {
          chat: {
            id: `ch_bench_${chat}`,
            profile_id: `prof_bench_${chat % 3}`,
            platform: chat % 4 === 0 ? "facebook" : "instagram",
            participant_external_id: `178414${String(chat).padStart(11, "0")}`,
            participant_username: `bench_user_${chat}`,
            participant_name: `Bench User ${chat}`,
          },
          ref: REFS[Math.floor(Math.random() * REFS.length)],
          source: "SHORTLINKS",
          type: "OPEN_THREAD",
          received_at: new Date(receivedAt).toISOString(),
        },
      },
    });
    return { id, body };
  };
}

function signedHeaders(secret, id, body) {
  return {
    "content-type": "application/json",
    "x-postproxy-event": "referral.received",
    "x-postproxy-delivery": `dlv_${id}`,
    "x-postproxy-signature": signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
  };
}

async function countStored(url, adminKey) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ query: "{ webhookEvents { totalCount } }" }),
  });
  const answer = await res.json();
  if (!res.ok || answer.errors) throw new Error(`webhookEvents query failed: ${res.status} ${JSON.stringify(answer.errors ?? answer)}`);
  return answer.data.webhookEvents.totalCount;
}

/** Reads the count until two reads 300 ms apart agree: requests cut off when a run stops may still be committing. */
async function settledCount(url, adminKey) {
  let previous = await countStored(url, adminKey);
  for (let i = 0; i < 30; i++) {
    await sleep(300);
    const current = await countStored(url, adminKey);
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

/** One autocannon run; every request gets its own delivery and signature. Bodies of unanswered requests stay in `pending`. */
function load({ url, secret, next, pending, connections, seconds }) {
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path: "/webhooks/postproxy",
        setupRequest(req) {
          const { id, body } = next();
          pending.set(id, body);
          return { ...req, body, headers: signedHeaders(secret, id, body) };
        },
        onResponse(status, body) {
          if (status >= 200 && status < 300) pending.delete(JSON.parse(body).id);
        },
      },
    ],
  });
}

/**
 * Sends again each delivery whose answer never came (cut off when a run stopped, or not 2xx), as Postproxy retries.
 * `duplicate: true` in the answer means the server had committed the first attempt.
 */
async function retryUnanswered({ url, secret, pending }) {
  const outcome = { committedBefore: 0, storedNow: 0, failed: 0 };
  const bodies = [...pending];
  const worker = async () => {
    for (let item = bodies.pop(); item; item = bodies.pop()) {
      const [id, body] = item;
      const res = await fetch(`${url}/webhooks/postproxy`, { method: "POST", headers: signedHeaders(secret, id, body), body });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) outcome.failed += 1;
      else if (answer.duplicate) outcome.committedBefore += 1;
      else outcome.storedNow += 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return outcome;
}

const fmt = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function summarize(label, connections, result) {
  const codes = Object.entries(result.statusCodeStats)
    .filter(([code]) => !code.startsWith("2"))
    .map(([code, { count }]) => `${code}×${count}`)
    .join(" ");
  const row = {
    run: label,
    connections,
    seconds: result.duration,
    rpsMean: result.requests.mean,
    rpsMedian: result.requests.p50,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  console.log(
    `${label}: ${connections} connections, ${row.seconds} s: ${fmt(row.rpsMean)} req/s mean, ${fmt(row.rpsMedian)} median of ` +
      `${result.samples} one-second samples; latency p50 ${row.p50} ms, p99 ${row.p99} ms (max ${result.latency.max} ms); ` +
      `${row.ok} 2xx, ${row.non2xx} non-2xx${codes ? ` (${codes})` : ""}, ${row.errors} errors (${row.timeouts} timeouts)`,
  );
  return row;
}

function table(rows) {
  const columns = [
    ["connections", (r) => r.connections],
    ["req/s mean", (r) => fmt(r.rpsMean)],
    ["req/s median", (r) => fmt(r.rpsMedian)],
    ["p50 ms", (r) => r.p50],
    ["p99 ms", (r) => r.p99],
    ["2xx", (r) => r.ok],
    ["non-2xx", (r) => r.non2xx],
    ["errors", (r) => r.errors],
    ["timeouts", (r) => r.timeouts],
  ];
  const cells = [columns.map(([title]) => title), ...rows.map((r) => columns.map(([, get]) => String(get(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line.map((cell, i) => cell.padStart(widths[i])).join("  ")).join("\n");
}

async function main() {
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length > 0) await cleanups.pop()().catch((error) => console.error(`cleanup: ${error.message}`));
  };
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    console.error("interrupted: stopping the server and removing the benchmark database");
    void cleanup().then(() => process.exit(130));
  });

  try {
    let url, secret, adminKey, database;
    if (process.env.BENCH_URL) {
      url = process.env.BENCH_URL.replace(/\/$/, "");
      secret = process.env.BENCH_SECRET;
      adminKey = process.env.BENCH_ADMIN_KEY;
      if (!secret) throw new Error("BENCH_URL needs BENCH_SECRET, the server's POSTPROXY_WEBHOOK_SECRET");
      database = `the server at ${url}`;
    } else {
      secret = `whsec_bench_${randomBytes(12).toString("hex")}`;
      adminKey = `bench_admin_${randomBytes(12).toString("hex")}`;
      const dir = mkdtempSync(path.join(os.tmpdir(), "refgraph-bench-"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      let databaseUrl = process.env.BENCH_DATABASE_URL || `sqlite:${path.join(dir, "bench.sqlite")}`;
      if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
        const pg = await freshPostgres(databaseUrl);
        cleanups.push(pg.drop);
        databaseUrl = pg.url;
        database = `PostgreSQL, fresh database ${pg.name}`;
      } else database = `SQLite ${databaseUrl.slice("sqlite:".length)} (WAL, synchronous=FULL)`;
      const server = await startServer({ databaseUrl, secret, adminKey, cwd: dir });
      cleanups.push(() => server.stop());
      url = server.url;
    }

    console.log(`refgraph ingest benchmark: ${database}`);
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}); ` +
        `referral.received deliveries over ${CHATS} chats and ${REFS.length} refs; warm-up ${WARMUP_SECONDS} s, runs of ${SECONDS} s`,
    );
    const before = adminKey ? await countStored(url, adminKey) : undefined;
    const next = deliveries();
    const pending = new Map();
    let answered2xx = 0;

    const warmup = await load({ url, secret, next, pending, connections: CONNECTIONS[0], seconds: WARMUP_SECONDS });
    answered2xx += warmup["2xx"];
    summarize("warm-up", CONNECTIONS[0], warmup);
    const rows = [];
    for (const connections of CONNECTIONS) {
      if (interrupted) return;
      const result = await load({ url, secret, next, pending, connections, seconds: SECONDS });
      answered2xx += result["2xx"];
      rows.push(summarize("run", connections, result));
    }
    console.log(`\n${table(rows)}\n`);
    console.log("req/s and latency cover every answer, 2xx or not; errors include timeouts.");
    if (rows.some((row) => row.ok === 0)) {
      console.error("a run got no 2xx answer: check the secret (BENCH_SECRET) and the server's log");
      process.exitCode = 1;
    }

    if (adminKey === undefined) {
      console.log("database check skipped: set BENCH_ADMIN_KEY to count the stored events");
      return;
    }
    const stored = (await settledCount(url, adminKey)) - before;
    const unanswered = pending.size;
    const retry = await retryUnanswered({ url, secret, pending });
    const expected = answered2xx + retry.committedBefore;
    console.log(
      `database check: ${stored} events stored; ${answered2xx} answered 2xx + ${retry.committedBefore} committed but cut off ` +
        `when a run stopped = ${expected}: ${stored === expected ? "OK" : "MISMATCH"}`,
    );
    const after = (await settledCount(url, adminKey)) - before;
    console.log(
      `  ${unanswered} deliveries had no 2xx answer; sent again: ${retry.committedBefore} were duplicates, ${retry.storedNow} stored now, ` +
        `${retry.failed} failed; total after the retry ${after}: ${after === expected + retry.storedNow ? "OK" : "MISMATCH"}`,
    );
    if (stored !== expected || after !== expected + retry.storedNow) process.exitCode = 1;
  } finally {
    if (!interrupted) await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
