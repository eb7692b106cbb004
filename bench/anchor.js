"use strict";
// Ingest against the group-commit anchor: `npm run bench:anchor` (after `npm run build`). Starts refgraph as in
// production on a fresh SQLite file, runs ../shared/bench-anchor/side-by-side.mjs against it (ANCHOR_DIR: a copy of
// that folder with its dependencies installed; CONNS, TIMES, ROUNDS, SECS as side-by-side.mjs takes them), then
// prints refgraph's CPU time per stored event, read from /proc around the whole run (only refgraph's rounds reach it).
// Before the rounds refgraph takes WARMUP_SECS (default 4; 0: none) of the same load, so that its first round is not
// spent compiling its code (a server runs warm; the anchor's few lines warm up within its first round's first second).

const { execFileSync } = require("node:child_process");
const { mkdtempSync, readFileSync, rmSync } = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { startServer } = require("./server");

const ANCHOR_DIR = process.env.ANCHOR_DIR || "/tmp/anchor";
const TICKS_PER_SECOND = 100;
const WARMUP_SECS = Number(process.env.WARMUP_SECS ?? 4);

/** The process's user + system CPU seconds so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "refgraph-anchor-"));
  const database = path.join(dir, "refgraph.sqlite");
  const server = await startServer({ databaseUrl: `sqlite:${database}`, secret: "whsec_bench", adminKey: "bench-admin-key-0123456789", cwd: dir });
  try {
    if (WARMUP_SECS > 0) {
      const load = path.join(ANCHOR_DIR, "load.mjs");
      execFileSync("node", [load, `${server.url}/webhooks/postproxy`, String(WARMUP_SECS), process.env.CONNS || "16"], { env: { ...process.env, SECRET: "whsec_bench" } });
    }
    const warmupEvents = await storedEvents(database);
    const before = cpuSeconds(server.pid);
    execFileSync("node", [path.join(ANCHOR_DIR, "side-by-side.mjs"), server.url], { stdio: "inherit" });
    const cpu = cpuSeconds(server.pid) - before;
    await server.stop();
    const stored = (await storedEvents(database)) - warmupEvents;
    console.log(`refgraph stored ${stored} events using ${cpu.toFixed(2)} s of CPU: ${((cpu / stored) * 1e6).toFixed(0)} µs per event`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function storedEvents(database) {
  const sqlite3 = require("sqlite3");
  const db = new sqlite3.Database(database, sqlite3.OPEN_READONLY);
  try {
    return await new Promise((resolve, reject) => db.get("SELECT COUNT(*) AS n FROM webhook_event", (error, row) => (error ? reject(error) : resolve(row.n))));
  } finally {
    await new Promise((resolve) => db.close(resolve));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
