"use strict";
// Fault benchmark: `npm run bench:faults` (after `npm run build`). Method and results: docs/benchmarks.md; issue 12.
//
// Starts `node dist/src/main.js` on a fresh PostgreSQL database reached through a FaultProxy (src/dev/fault-proxy.ts),
// sends a steady stream of distinct signed webhooks the way Postproxy does (each retried until it gets a 2xx), and
// meanwhile breaks things one after another: connection resets, a silent network, refused connections, kill -9.
// /readyz is polled all along. At the end every delivery is retried until acknowledged, and the database is read
// directly: every acknowledged event must be stored, and none FAILED. Exits 0 when it ran: it is a benchmark.
//
//   BENCH_DATABASE_URL   PostgreSQL to create the fresh database beside (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_RATE           new webhooks per second (default 100)
//   BENCH_FAULT_SECONDS  length of each fault (default 15)
//   BENCH_KILLS          kill -9 rounds (default 3)
//   BENCH_JSON           a file to write the results to, as JSON

const { randomBytes } = require("node:crypto");
const { mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");

let FaultProxy, freshPostgres, signatureHeader, sleep, startServer;
try {
  ({ FaultProxy } = require("../dist/src/dev/fault-proxy"));
  ({ signatureHeader } = require("../dist/src/webhooks/signature"));
  ({ freshPostgres, sleep, startServer } = require("./server"));
} catch (error) {
  console.error(`bench/faults.js needs the build output in dist/: run \`npm run build\` first (${error.message})`);
  process.exit(1);
}
const { Client } = require("pg");

const RATE = Number(process.env.BENCH_RATE || 100);
const FAULT_SECONDS = Number(process.env.BENCH_FAULT_SECONDS || 15);
const KILLS = Number(process.env.BENCH_KILLS || 3);
// Postproxy counts a 2xx within 30 s as success; a delivery's later attempts are compressed from minutes to seconds.
const DELIVERY_TIMEOUT_MS = 30_000;
const RETRY_DELAYS_MS = [0, 1000, 2000, 4000, 8000];
const READYZ_INTERVAL_MS = 250;

const percentile = (values, p) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Postproxy, compressed: distinct events at RATE per second, each sent until a 2xx answers it. */
class Sender {
  constructor(secret) {
    this.secret = secret;
    this.tag = randomBytes(4).toString("hex");
    this.sent = 0;
    this.acknowledged = new Set();
    this.unacknowledged = new Set();
    this.url = null;
    this.phase = "start";
    this.answers = [];
  }

  event(n) {
    const id = `evt_fault_${this.tag}_${n}`;
    const chat = `ch_fault_${n % 500}`;
    return {
      id,
      body: JSON.stringify({
        id,
        object: "event",
        type: "referral.received",
        created_at: new Date().toISOString(),
        data: { object: { chat: { id: chat, platform: "instagram" }, ref: `c=fault--ch=${["bio", "ad", "qr"][n % 3]}`, source: "SHORTLINK", type: "OPEN_THREAD" } },
      }),
    };
  }

  /** One attempt; records its answer under the current phase. */
  async attempt(event) {
    const started = performance.now();
    const phase = this.phase;
    let status;
    try {
      const response = await fetch(`${this.url}/webhooks/postproxy`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-postproxy-delivery": `dlv_${randomBytes(6).toString("hex")}`,
          "x-postproxy-signature": signatureHeader(this.secret, event.body, Math.floor(Date.now() / 1000)),
        },
        body: event.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      status = String(response.status);
    } catch (error) {
      status = error.name === "TimeoutError" ? "timeout" : "refused";
    }
    this.answers.push({ phase, status, ms: performance.now() - started });
    return status.startsWith("2");
  }

  /** Sends one event until acknowledged, waiting between attempts as Postproxy does (stretched to every 8 s). */
  async deliver(event) {
    this.unacknowledged.add(event.id);
    for (let attempt = 0; ; attempt++) {
      await sleep(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]);
      if (await this.attempt(event)) break;
    }
    this.unacknowledged.delete(event.id);
    this.acknowledged.add(event.id);
  }

  start() {
    this.running = true;
    this.deliveries = [];
    const started = performance.now();
    this.loop = (async () => {
      while (this.running) {
        const due = Math.floor(((performance.now() - started) / 1000) * RATE);
        while (this.sent < due) this.deliveries.push(this.deliver(this.event(this.sent++)));
        await sleep(10);
      }
    })();
  }

  /** Stops new events and waits until every one sent is acknowledged. */
  async finish() {
    this.running = false;
    await this.loop;
    await Promise.all(this.deliveries);
  }
}

/** Polls /readyz, recording each answer's status and time under the current phase. */
function pollReadiness(target) {
  const answers = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const phase = target.phase;
      const started = performance.now();
      let status;
      try {
        const response = await fetch(`${target.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        status = String(response.status);
      } catch (error) {
        status = error.name === "TimeoutError" ? "timeout" : "refused";
      }
      answers.push({ phase, status, ms: performance.now() - started });
      await sleep(READYZ_INTERVAL_MS);
    }
  })();
  return { answers, stop: () => ((running = false), loop) };
}

/** How many answers had each status. */
function tally(answers) {
  const counts = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

function summarize(phases, answers, readiness) {
  return phases.map((phase) => {
    const mine = answers.filter((a) => a.phase === phase);
    const ready = readiness.filter((a) => a.phase === phase);
    return {
      phase,
      attempts: mine.length,
      statuses: tally(mine),
      p50Ms: Math.round(percentile(mine.map((a) => a.ms), 50) ?? 0),
      p99Ms: Math.round(percentile(mine.map((a) => a.ms), 99) ?? 0),
      maxMs: Math.round(Math.max(0, ...mine.map((a) => a.ms))),
      non2xxMaxMs: Math.round(Math.max(0, ...mine.filter((a) => !a.status.startsWith("2")).map((a) => a.ms))),
      readyz: tally(ready),
      readyzMaxMs: Math.round(Math.max(0, ...ready.map((a) => a.ms))),
    };
  });
}

async function main() {
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length > 0) await cleanups.pop()().catch((error) => console.error(`cleanup: ${error.message}`));
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    const secret = `whsec_bench_${randomBytes(12).toString("hex")}`;
    const adminKey = `bench_admin_${randomBytes(12).toString("hex")}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), "refgraph-bench-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const pg = await freshPostgres(process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test");
    cleanups.push(pg.drop);
    const direct = new URL(pg.url);
    const proxy = new FaultProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const through = await proxy.listen();
    cleanups.push(() => proxy.close());
    const proxied = new URL(pg.url);
    proxied.host = `${through.host}:${through.port}`;

    let server = null;
    const start = async () => {
      server = await startServer({ databaseUrl: proxied.toString(), secret, adminKey, cwd: dir });
      sender.url = server.url;
    };
    cleanups.push(() => server?.stop());
    const sender = new Sender(secret);
    await start();
    const readiness = pollReadiness(sender);
    console.log(
      `refgraph fault benchmark: PostgreSQL ${pg.name} through a fault proxy; node ${process.version}, ${os.cpus().length} CPUs; ` +
        `${RATE} webhooks/s, faults of ${FAULT_SECONDS} s, ${KILLS} kill -9 rounds`,
    );
    sender.start();
    const phase = async (name, seconds, during = async () => undefined) => {
      sender.phase = name;
      console.log(`${new Date().toISOString()} ${name}`);
      await Promise.all([sleep(seconds * 1000), during()]);
    };
    await phase("baseline", 5);
    await phase("resets (every connection reset 5 times a second)", FAULT_SECONDS, async () => {
      for (let i = 0; i < FAULT_SECONDS * 5; i++) {
        proxy.resetAll();
        await sleep(200);
      }
    });
    await phase("recovery after resets", 5);
    proxy.setMode("silent");
    await phase("silent network", FAULT_SECONDS);
    proxy.setMode("pass");
    await phase("recovery after silence", 10);
    proxy.setMode("refuse");
    proxy.resetAll();
    await phase("connections refused", FAULT_SECONDS);
    proxy.setMode("pass");
    await phase("recovery after refusals", 10);
    for (let round = 1; round <= KILLS; round++) {
      await phase(`kill -9 round ${round}`, 0, async () => {
        process.kill(server.pid, "SIGKILL");
        await server.exited;
        await sleep(1000);
        await start();
      });
      await phase(`after kill ${round}`, 5);
    }
    sender.phase = "draining";
    await sender.finish();
    await readiness.stop();

    const client = new Client({ connectionString: pg.url });
    await client.connect();
    const { rows } = await client.query("SELECT id, status FROM webhook_event WHERE id LIKE $1", [`evt_fault_${sender.tag}_%`]);
    await client.end();
    const stored = new Map(rows.map((row) => [row.id, row.status]));
    const lost = [...sender.acknowledged].filter((id) => !stored.has(id));
    const failed = rows.filter((row) => row.status === "FAILED").length;
    const phases = [...new Set(sender.answers.map((a) => a.phase))];
    const results = summarize(phases, sender.answers, readiness.answers);
    console.log("\nphase | attempts | answers | p50 / p99 / max ms | slowest non-2xx ms | /readyz answers | slowest /readyz ms");
    for (const r of results)
      console.log(`${r.phase} | ${r.attempts} | ${JSON.stringify(r.statuses)} | ${r.p50Ms} / ${r.p99Ms} / ${r.maxMs} | ${r.non2xxMaxMs} | ${JSON.stringify(r.readyz)} | ${r.readyzMaxMs}`);
    const verdict = { events: sender.sent, acknowledged: sender.acknowledged.size, stored: stored.size, lost: lost.length, failed };
    console.log(`\n${JSON.stringify(verdict)}: ${lost.length === 0 && failed === 0 ? "OK, nothing acknowledged was lost and nothing FAILED" : "NOT OK"}`);
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ verdict, results }, null, 2));
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
