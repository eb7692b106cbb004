"use strict";
// Hostile-input benchmark: `npm run bench:hostile` (after `npm run build`). Method: docs/benchmarks.md; issue 11.
//
// Starts `node dist/src/main.js` (NODE_ENV=production) on a fresh SQLite file, keeps a steady stream of correctly
// signed webhooks and a dashboard-like GraphQL poll going (in a worker thread, so that the hostile requests sent from
// the main thread never delay it), and meanwhile sends each hostile input of issue 11 one after another. It reports
// what it sees, checks it against the issue's targets, and always exits 0 when it ran: it is a benchmark.
//
//   BENCH_SECONDS   length of the good traffic, hostile inputs included (default 60)
//   BENCH_RATE      good webhooks per second (default 100)
//   BENCH_HOSTILE   comma-separated names of the hostile inputs to send (default all of them, in the order of CASES;
//                   `none` measures the good traffic alone)
//   BENCH_JSON      a file to write every result to, as JSON
//
// Every request has a timeout and every loop a bound: a server frozen by a hostile input shows up as timeouts, and
// the server is killed when it ignores SIGTERM (startServer.stop), or at the latest at a hard deadline.

const { execFileSync } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { isMainThread, parentPort, Worker, workerData } = require("node:worker_threads");
const { parse: parseCsv } = require("csv-parse/sync");

let signatureHeader, sleep, startServer, CONFIG_VARIABLES;
try {
  ({ signatureHeader } = require("../dist/src/webhooks/signature"));
  ({ CONFIG_VARIABLES } = require("../dist/src/config/config"));
  ({ sleep, startServer } = require("./server"));
} catch (error) {
  console.error(`bench/hostile.js needs the build output in dist/: run \`npm run build\` first (${error.message})`);
  process.exit(1);
}

const ROOT = path.join(__dirname, "..");
const SECONDS = Number(process.env.BENCH_SECONDS || 60);
const RATE = Number(process.env.BENCH_RATE || 100);
const WARMUP_MS = 3000;
const TIMEOUT_MS = 5000; // of every request: a frozen server answers nothing, and the run must go on
const GAP_MS = 500; // between two hostile inputs
const POLL_MS = 2000;
const GOOD_CONCURRENCY = 16;
const FLOOD = { requests: 3000, concurrency: 16, capMs: 6000 };
const CHATS = 5000;
const REFS = Array.from({ length: 300 }, (_, i) => `${["spring_promo", "ig-bio", "story=swipe", "ad_set"][i % 4]}_${String(i).padStart(3, "0")}`);

// Targets of issue 11.
const GOOD_P99_MS = 100;
const HOSTILE_MS = 50;
const MEMORY_BYTES = 1e9;

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (n) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} ms` : "-");
const ok = (status) => status >= 200 && status < 300;

/** One request with a deadline; never throws. status 0 means no answer (`error` says why: timeout or the reason). */
async function timed(url, init = {}) {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    return { status: res.status, ms: performance.now() - started, text, headers: res.headers };
  } catch (error) {
    const reason = error.name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : String(error.cause?.code ?? error.message);
    return { status: 0, ms: performance.now() - started, error: reason };
  }
}

/**
 * A request whose declared body is over the server's limit, of which only the first bytes are sent: the time is the
 * server's, not that of uploading megabytes, and a server that waits for the whole body shows up as a timeout.
 */
function timedOversized(url, { headers, declaredBytes, prefix }) {
  const started = performance.now();
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    const request = http.request(url, { method: "POST", headers: { ...headers, "content-length": declaredBytes }, signal });
    request.once("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.once("end", () => {
        resolve({ status: res.statusCode, ms: performance.now() - started, text, headers: new Headers(res.headers) });
        request.destroy();
      });
    });
    request.once("error", (error) => {
      const reason = error.name === "AbortError" ? `no answer within ${TIMEOUT_MS / 1000} s` : String(error.code ?? error.message);
      resolve({ status: 0, ms: performance.now() - started, error: reason });
    });
    request.write(prefix);
  });
}

function jsonOf(answer) {
  try {
    return JSON.parse(answer.text);
  } catch {
    return null;
  }
}

/** The error code of an answer: `code` of a REST error body, or the first GraphQL error's extensions.code. */
const codeOf = (answer) => jsonOf(answer)?.code ?? jsonOf(answer)?.errors?.[0]?.extensions?.code ?? null;

function signedHeaders(secret, id, type, body) {
  return {
    "content-type": "application/json",
    "x-postproxy-event": type,
    "x-postproxy-delivery": `dlv_${id}`,
    "x-postproxy-signature": signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
  };
}

function referralBody(id, chat, ref) {
  const now = new Date().toISOString();
  return JSON.stringify({
    id,
    object: "event",
    type: "referral.received",
    created_at: now,
    data: {
      object: {
        chat: { id: chat, profile_id: "prof_hostile", platform: "instagram", participant_username: `u_${chat}`, participant_name: `User ${chat}` },
        ref,
        source: "SHORTLINKS",
        type: "OPEN_THREAD",
        received_at: now,
      },
    },
  });
}

function messageBody(id, chat) {
  const now = new Date().toISOString();
  return JSON.stringify({
    id,
    object: "event",
    type: "message.received",
    created_at: now,
    data: {
      message: { id: `msg_${id}`, chat_id: chat, direction: "inbound", status: "received", body: "hello", external_posted_at: now, created_at: now },
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Good traffic (worker thread): signed webhooks at RATE per second, and a dashboard poll every POLL_MS.

const DASHBOARD_QUERIES = [
  `{ chats(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { id participant { username } latestReferral { ref receivedAt } } } } }`,
  `{ campaignStats(groupBy: [CAMPAIGN, CHANNEL], range: LAST_30D, attribution: LAST_TOUCH, conversionWindowHours: 24,
       orderBy: { field: CONVERSIONS, direction: DESC }, first: 20) {
     totals { referrals conversions conversionRate }
     rows { key { campaign channel } metrics { referrals uniqueChats newChats returningChats conversions conversionRate silentReferrals
            medianSecondsToFirstMessage p90SecondsToFirstMessage greetingsSent greetingReplies } } } }`,
];

async function goodTraffic({ url, secret, dashboardKey, origin }) {
  let stopping = false;
  parentPort.once("message", () => (stopping = true));
  const webhooks = [];
  const polls = [];
  const tag = randomBytes(4).toString("hex");
  let sent = 0;
  let nextSlot = performance.now();

  // Paced at RATE with at most GOOD_CONCURRENCY in flight; slots missed while the server is slow are not made up.
  const sender = async () => {
    while (!stopping) {
      const now = performance.now();
      const slot = Math.max(nextSlot, now);
      nextSlot = slot + 1000 / RATE;
      await sleep(slot - now);
      if (stopping) break;
      sent += 1;
      const chat = `ch_good_${tag}_${Math.floor(Math.random() * CHATS)}`;
      const id = `evt_good_${tag}_${sent}`;
      const type = sent % 4 === 0 ? "message.received" : "referral.received";
      const body = type === "message.received" ? messageBody(id, chat) : referralBody(id, chat, REFS[sent % REFS.length]);
      const at = Date.now() - origin;
      const answer = await timed(`${url}/webhooks/postproxy`, { method: "POST", headers: signedHeaders(secret, id, type, body), body });
      webhooks.push({ at, ms: answer.ms, status: answer.status, error: answer.error });
    }
  };

  const poller = async () => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${dashboardKey}` };
    while (!stopping) {
      const started = performance.now();
      const at = Date.now() - origin;
      const answers = await Promise.all(
        DASHBOARD_QUERIES.map((query) => timed(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query }) })),
      );
      for (const answer of answers)
        polls.push({ at, ms: answer.ms, status: answer.status, code: codeOf(answer), graphqlErrors: Boolean(jsonOf(answer)?.errors), error: answer.error });
      const rest = POLL_MS - (performance.now() - started);
      for (let waited = 0; waited < rest && !stopping; waited += 100) await sleep(Math.min(100, rest - waited));
    }
  };

  await Promise.all([...Array.from({ length: GOOD_CONCURRENCY }, sender), poller()]);
  parentPort.postMessage({ webhooks, polls });
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile inputs, sent one after another from the main thread. Each answers a result row:
//   { status, code, ms, note?, pass, target }

/** A single request that must be refused: 4xx with an error code, in ≤ HOSTILE_MS (and the given status, if any). */
function refused(answer, { status } = {}) {
  const code = codeOf(answer);
  const target = `${status ?? "4xx"} with a code, ≤ ${HOSTILE_MS} ms`;
  const statusOk = status ? answer.status === status : answer.status >= 400 && answer.status < 500;
  const body = jsonOf(answer);
  const message = body?.error ?? body?.errors?.[0]?.message;
  const note = answer.error ?? (typeof message === "string" ? `"${message.length > 90 ? `${message.slice(0, 90)}…` : message}"` : undefined);
  return { status: answer.status, code, ms: answer.ms, note, target, pass: statusOk && code !== null && answer.ms <= HOSTILE_MS };
}

/** A referral.received delivery for a chat of its own, signed with `secret` (the server's unless told). */
function referralWebhook(ctx, ref, { secret = ctx.secret, id = `evt_hostile_${randomBytes(6).toString("hex")}` } = {}) {
  const body = referralBody(id, `ch_${id}`, ref);
  return timed(`${ctx.url}/webhooks/postproxy`, { method: "POST", headers: signedHeaders(secret, id, "referral.received", body), body });
}

/** A correctly signed referral whose ref a dangerous glob rule must match quickly: 200 at good-webhook speed. */
async function ingested(ctx, ref) {
  const answer = await referralWebhook(ctx, ref);
  const note = answer.error ?? `event ${jsonOf(answer)?.status}`;
  const pass = answer.status === 200 && answer.ms <= GOOD_P99_MS;
  return { status: answer.status, code: codeOf(answer), ms: answer.ms, note, target: `200, ≤ ${GOOD_P99_MS} ms`, pass };
}

/** A referral with a formula for a ref, then its row in /exports/referrals.csv: the cell must be escaped with a '. */
async function exportedFormula(ctx, ref) {
  const target = `200, cell '${ref}`;
  const stored = await referralWebhook(ctx, ref);
  if (stored.status !== 200) return { status: stored.status, code: codeOf(stored), ms: stored.ms, note: "the referral was not stored", target, pass: false };
  const answer = await timed(`${ctx.url}/exports/referrals.csv?ref=${encodeURIComponent(ref)}`, { headers: { authorization: `Bearer ${ctx.attackerKey}` } });
  const cell = answer.status === 200 ? parseCsv(answer.text, { columns: true })[0]?.ref : undefined;
  const note = answer.error ?? (cell === undefined ? "no row for the ref" : `ref cell ${JSON.stringify(cell)}`);
  return { status: answer.status, code: codeOf(answer), ms: answer.ms, note, target, pass: answer.status === 200 && cell === `'${ref}` };
}

/** Many requests as fast as allowed: the defence is a 429 RATE_LIMITED with Retry-After before the flood ends. */
async function flood(request) {
  const started = performance.now();
  const statuses = new Map();
  const times = [];
  let sent = 0;
  let first429 = null;
  const worker = async () => {
    while (sent < FLOOD.requests && performance.now() - started < FLOOD.capMs) {
      const index = sent++;
      const answer = await request(index);
      times.push(answer.ms);
      const key = answer.status === 0 ? "no answer" : String(answer.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (answer.status === 429 && !first429)
        first429 = { index, afterMs: performance.now() - started, code: codeOf(answer), retryAfter: answer.headers.get("retry-after") };
    }
  };
  await Promise.all(Array.from({ length: FLOOD.concurrency }, worker));
  const elapsed = performance.now() - started;
  const counts = [...statuses].map(([status, count]) => `${status}×${count}`).join(" ");
  const note =
    `${sent} sent in ${(elapsed / 1000).toFixed(1)} s: ${counts}; p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}` +
    (first429 ? `; first 429 after ${ms(first429.afterMs)} (request #${first429.index + 1}, Retry-After ${first429.retryAfter ?? "absent"})` : "; no 429");
  return {
    status: first429 ? 429 : Number([...statuses].sort((a, b) => b[1] - a[1])[0]?.[0]) || 0, // else the most frequent
    code: first429?.code ?? null,
    ms: first429?.afterMs ?? elapsed,
    note,
    target: "429 RATE_LIMITED with Retry-After",
    pass: Boolean(first429 && first429.code === "RATE_LIMITED" && first429.retryAfter),
    flood: { sent, statuses: Object.fromEntries(statuses), p50: percentile(times, 50), p99: percentile(times, 99), first429 },
  };
}

const graphql = (ctx, key, query, variables) =>
  timed(`${ctx.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });

/** A 1 KB document whose fragments each spread the next one twice: 2^levels paths for a naive walk. */
function fragmentFanOut(levels) {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  return `query FanOut { ...F0 }\n${fragments.join("\n")}\nfragment F${levels} on Query { chats(first: 1) { totalCount } }`;
}

const readQuery = "{ chats(first: 1) { totalCount } }";
const megabyteDocument = () => `{ ${"__typename ".repeat(Math.floor(1_000_000 / 11))}}`;
const aliases = (count, field) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(" ")} }`;
// first 46 × 2,161 hourly buckets stays under campaignStats' own 100,000-row cap, so each alias alone is allowed.
const largeStats = "campaignStats(interval: HOUR, range: LAST_90D, first: 46) { rows { key { ref bucket } metrics { referrals uniqueChats conversions } } }";

/** [name (for BENCH_HOSTILE), what is sent, send(ctx) answering a result row], in the order they are sent. */
const CASES = [
  ["404", "GET an unknown path", (ctx) => timed(`${ctx.url}/no-such-path`).then((a) => refused(a, { status: 404 }))],
  ["405", "DELETE /graphql", (ctx) => timed(`${ctx.url}/graphql`, { method: "DELETE" }).then((a) => refused(a, { status: 405 }))],
  [
    "415",
    "POST /graphql without a Content-Type",
    (ctx) =>
      timed(`${ctx.url}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${ctx.attackerKey}` },
        body: Buffer.from(JSON.stringify({ query: "{ __typename }" })), // fetch gives a Buffer body no Content-Type
      }).then((a) => refused(a, { status: 415 })),
  ],
  [
    "431",
    "a 20 KiB header",
    (ctx) => timed(`${ctx.url}/healthz`, { headers: { "x-filler": "x".repeat(20 * 1024) } }).then((a) => refused(a, { status: 431 })),
  ],
  [
    "413",
    "a webhook declaring a 2 MiB body",
    (ctx) =>
      timedOversized(`${ctx.url}/webhooks/postproxy`, {
        headers: { "content-type": "application/json" },
        declaredBytes: 2 * 1024 * 1024,
        prefix: '{"pad":"xxxx',
      }).then((a) => refused(a, { status: 413 })),
  ],
  [
    "bad-variable",
    "a variable of the wrong type",
    (ctx) => graphql(ctx, ctx.attackerKey, "query Page($first: Int) { chats(first: $first) { totalCount } }", { first: "ten" }).then(refused),
  ],
  ["10000-aliases", "10,000 aliases of __typename", (ctx) => graphql(ctx, ctx.attackerKey, aliases(10_000, "__typename")).then(refused)],
  ["csv-formula", "a ref of =2-1 in /exports/referrals.csv", (ctx) => exportedFormula(ctx, "=2-1")],
  ["flood-graphql-key", "/graphql flood with one read key", (ctx) => flood(() => graphql(ctx, ctx.flooderKey, readQuery))],
  [
    "flood-exports-key",
    "/exports flood with one read key",
    (ctx) => flood(() => timed(`${ctx.url}/exports/referrals.csv?ref=nothing_here`, { headers: { authorization: `Bearer ${ctx.flooderKey}` } })),
  ],
  ["flood-no-key", "/graphql flood without a key", (ctx) => flood(() => graphql(ctx, null, readQuery))],
  [
    "flood-bad-signature",
    "webhook flood with a wrong signature",
    (ctx) => flood((index) => referralWebhook(ctx, "forged", { secret: "whsec_wrong_secret", id: `evt_forged_${index}` })),
  ],
  ["1mb-document", "1 MB of query text (__typename repeated)", (ctx) => graphql(ctx, ctx.attackerKey, megabyteDocument()).then(refused)],
  ["fragment-fanout", "fragments spreading the next twice, 30 levels", (ctx) => graphql(ctx, ctx.attackerKey, fragmentFanOut(30)).then(refused)],
  ["campaignstats-aliases", "40 aliases of campaignStats(HOUR, LAST_90D, first 46)", (ctx) => graphql(ctx, ctx.attackerKey, aliases(40, largeStats)).then(refused)],
  ["glob-summer", "ref summer + 300 '-' against summer*-*-*-*-b", (ctx) => ingested(ctx, `summer${"-".repeat(300)}`)],
  ["glob-aaa", "ref of 2,083 'a' against *a*a*a*a*a*a*b", (ctx) => ingested(ctx, "a".repeat(2083))],
];

const RULES = [
  { name: "hostile summer", refPattern: "summer*-*-*-*-b" },
  { name: "hostile aaa", refPattern: "*a*a*a*a*a*a*b" },
];

// ---------------------------------------------------------------------------------------------------------------

/** `refgraph keys create` on the benchmark's database, as an operator would; answers the printed key. */
function createKey(databaseUrl, cwd, name) {
  const env = { ...process.env };
  for (const variable of Object.keys(CONFIG_VARIABLES)) delete env[variable];
  Object.assign(env, { DATABASE_URL: databaseUrl, NODE_ENV: "development" });
  const cli = path.join(ROOT, "dist/src/cli/main.js");
  return execFileSync(process.execPath, [cli, "keys", "create", "--name", name, "--scope", "read"], { cwd, env, encoding: "utf8", timeout: 60_000 }).trim();
}

/** VmRSS and VmHWM (peak) of a process, in bytes; null once it is gone (an exited process has no Vm lines). */
function memoryOf(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1]) * 1024;
  const [rss, hwm] = [kb("VmRSS"), kb("VmHWM")];
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : null;
}

function table(header, rows) {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

function summary(records) {
  const times = records.map((r) => r.ms);
  const bad = records.filter((r) => !ok(r.status) || r.graphqlErrors);
  const statuses = {};
  for (const r of bad) {
    const key = r.status === 0 ? "no answer" : `${r.status}${r.code ? ` ${r.code}` : ""}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  return { count: records.length, p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times), notOk: bad.length, statuses };
}

async function main() {
  const chosen = process.env.BENCH_HOSTILE;
  const selected = chosen === "none" ? [] : chosen ? chosen.split(",").map((name) => name.trim()) : CASES.map(([name]) => name);
  const unknown = selected.filter((name) => !CASES.some(([known]) => known === name));
  if (unknown.length > 0) throw new Error(`BENCH_HOSTILE names unknown inputs: ${unknown.join(", ")}; known: ${CASES.map(([name]) => name).join(", ")}`);
  const commit = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  console.log(
    `refgraph hostile-input benchmark: commit ${commit}, ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs ` +
      `(${os.cpus()[0]?.model ?? "unknown"}), load average ${os.loadavg().map((n) => n.toFixed(2)).join(" ")}`,
  );

  const dir = mkdtempSync(path.join(os.tmpdir(), "refgraph-hostile-"));
  const databaseUrl = `sqlite:${path.join(dir, "bench.sqlite")}`;
  const secret = `whsec_bench_${randomBytes(12).toString("hex")}`;
  const adminKey = `bench_admin_${randomBytes(12).toString("hex")}`;
  const ctx = { secret };
  let server;
  // Ctrl-C: kill the server even when it is frozen (startServer's exit hook sends SIGTERM to one still starting).
  process.once("SIGINT", () => {
    console.error("interrupted: killing the server");
    if (server) process.kill(server.pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    ctx.dashboardKey = createKey(databaseUrl, dir, "dashboard");
    ctx.attackerKey = createKey(databaseUrl, dir, "attacker");
    // The floods use a key of their own, so that a rate-limited flood does not hide how single documents are answered.
    ctx.flooderKey = createKey(databaseUrl, dir, "flooder");
    server = await startServer({ databaseUrl, secret, adminKey, cwd: dir });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  ctx.url = server.url;

  let worker;
  const hardDeadline = setTimeout(() => {
    console.error("hard deadline passed: killing the server and stopping without a report");
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {}
    worker?.terminate();
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }, SECONDS * 1000 + 60_000);
  hardDeadline.unref();

  let peakRss = 0;
  let lastHwm = 0;
  const sampleMemory = () => {
    const memory = memoryOf(server.pid);
    if (memory) [peakRss, lastHwm] = [Math.max(peakRss, memory.rss), Math.max(lastHwm, memory.hwm)];
  };
  const sampler = setInterval(sampleMemory, 200);
  sampler.unref();

  const results = [];
  let traffic;
  try {
    const rules = [];
    for (const rule of RULES) {
      const answer = await graphql(
        ctx,
        adminKey,
        "mutation Rule($input: CreateGreetingRuleInput!) { createGreetingRule(input: $input) { id refPattern } }",
        { input: { ...rule, trigger: "ON_REFERRAL", body: "Hi {{participant.name}}!", priority: 10, enabled: true } },
      );
      const body = jsonOf(answer) ?? {};
      const refusal = `refused (${answer.status} ${codeOf(answer)}: ${body.errors?.[0]?.message ?? answer.error})`;
      rules.push(`${rule.refPattern}: ${body.data?.createGreetingRule ? "created" : refusal}`);
    }
    console.log(`greeting rules (ON_REFERRAL, POSTPROXY_API_KEY unset): ${rules.join("; ")}`);

    const origin = Date.now();
    worker = new Worker(__filename, { workerData: { url: ctx.url, secret, dashboardKey: ctx.dashboardKey, origin } });
    traffic = new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    console.log(`good traffic: ${RATE} signed webhooks/s (≤ ${GOOD_CONCURRENCY} in flight) and a dashboard poll every ${POLL_MS / 1000} s, for ${SECONDS} s`);
    await sleep(WARMUP_MS);

    const end = origin + SECONDS * 1000;
    for (const [name, description, send] of CASES.filter(([name]) => selected.includes(name))) {
      const at = Date.now() - origin;
      if (Date.now() + TIMEOUT_MS > end) {
        const note = "not sent: the run's time was up";
        results.push({ name, description, at, skipped: true, status: "-", code: null, ms: NaN, note, pass: false, target: "-" });
        continue;
      }
      const result = await send(ctx);
      results.push({ name, description, at, ...result });
      console.log(`  ${name}: ${result.status} ${result.code ?? ""} in ${ms(result.ms)}${result.note ? ` (${result.note})` : ""}`);
      await sleep(GAP_MS);
    }
    while (Date.now() < end) await sleep(Math.min(250, end - Date.now()));
  } finally {
    worker?.postMessage("stop");
    sampleMemory();
    // In-flight requests end within TIMEOUT_MS; a worker that still has not answered is stopped.
    traffic = await Promise.race([traffic ?? Promise.resolve(null), sleep(TIMEOUT_MS + 3000).then(() => null)]).catch((error) => {
      console.error(`good traffic failed: ${error.message}`);
      return null;
    });
    await worker?.terminate();
    sampleMemory();
    if (memoryOf(server.pid) === null) console.log("the server process had exited before the end of the run");
    const stopping = Date.now();
    await server.stop();
    console.log(`server stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
  report({ commit, results, traffic, peakRss: Math.max(peakRss, lastHwm) });
  clearTimeout(hardDeadline);
}

function report({ commit, results, traffic, peakRss }) {
  const webhooks = summary(traffic?.webhooks ?? []);
  const polls = summary(traffic?.polls ?? []);
  const goodPass = webhooks.count > 0 && webhooks.p99 <= GOOD_P99_MS && webhooks.notOk === 0;
  const pollPass = polls.count > 0 && polls.notOk === 0;
  const memoryPass = peakRss > 0 && peakRss < MEMORY_BYTES;
  const verdict = (pass) => (pass ? "PASS" : "FAIL");
  const counts = (s) => Object.entries(s.statuses).map(([status, n]) => `${status}×${n}`).join(" ") || "-";
  const columns = (s) => [s.count, ms(s.p50), ms(s.p99), ms(s.max), s.notOk, counts(s)];

  console.log("\nGood traffic");
  console.log(
    table(
      ["", "requests", "p50", "p99", "max", "not ok", "by status", "target", "verdict"],
      [
        ["signed webhooks", ...columns(webhooks), `p99 ≤ ${GOOD_P99_MS} ms, none refused`, verdict(goodPass)],
        ["dashboard polls", ...columns(polls), "none refused", verdict(pollPass)],
      ],
    ),
  );

  // The good webhooks sent while each hostile input was being handled (until the next one started).
  const during = (result, index) => {
    const until = results[index + 1]?.at ?? Infinity;
    const window = (traffic?.webhooks ?? []).filter((w) => w.at >= result.at && w.at < until);
    const s = summary(window);
    return window.length === 0 ? "-" : `${ms(s.p99)}${s.notOk ? `, ${s.notOk} not ok` : ""}`;
  };
  console.log(
    `(webhooks paced at ${RATE}/s for ${SECONDS} s, about ${RATE * SECONDS} if every answer is quick; slots missed while ` +
      `${GOOD_CONCURRENCY} were waiting are not made up, and a request with no answer counts after ${TIMEOUT_MS / 1000} s)`,
  );
  console.log("\nHostile inputs (time: of the answer; for floods, of the first 429, or of the whole flood without one)");
  console.log(
    table(
      ["input", "status", "code", "time", "target", "verdict", "good webhooks p99 meanwhile", "note"],
      results.map((r, i) => {
        const status = r.status === 0 ? "none" : r.status;
        return [r.name, status, r.code ?? "-", ms(r.ms), r.target, r.skipped ? "SKIP" : verdict(r.pass), during(r, i), r.note ?? ""];
      }),
    ),
  );
  const peak = `peak RSS ${(peakRss / 1e6).toFixed(0)} MB (VmHWM, sampled every 200 ms)`;
  console.log(`\nServer memory: ${peak}; target < ${MEMORY_BYTES / 1e9} GB: ${verdict(memoryPass)}`);

  const failed = [
    ...(goodPass ? [] : ["good webhooks"]),
    ...(pollPass ? [] : ["dashboard polls"]),
    ...results.filter((r) => !r.pass).map((r) => (r.skipped ? `${r.name} (not sent)` : r.name)),
    ...(memoryPass ? [] : ["memory"]),
  ];
  console.log(failed.length === 0 ? "\nVERDICT: PASS" : `\nVERDICT: FAIL (${failed.join(", ")})`);

  if (process.env.BENCH_JSON) {
    const machine = { node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model };
    const overall = failed.length === 0 ? "PASS" : "FAIL";
    const json = { commit, date: new Date().toISOString(), machine, seconds: SECONDS, rate: RATE, webhooks, polls, hostile: results, peakRss, verdict: overall, failed };
    writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`results written to ${process.env.BENCH_JSON}`);
  }
}

if (isMainThread)
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
else goodTraffic(workerData);
