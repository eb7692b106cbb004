"use strict";
// What both benchmarks share: refgraph's server, started as in production in a process of its own.

const { spawn } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const net = require("node:net");
const path = require("node:path");
const { CONFIG_VARIABLES } = require("../dist/src/config/config");

const ROOT = path.join(__dirname, "..");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `node dist/src/main.js` with only the variables given here (no inherited refgraph settings, no .env); `env` adds settings. */
async function startServer({ databaseUrl, secret, adminKey, cwd, env: settings = {} }) {
  const port = await freePort();
  const env = { ...process.env };
  for (const variable of Object.keys(CONFIG_VARIABLES)) delete env[variable];
  Object.assign(env, {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    POSTPROXY_WEBHOOK_SECRET: secret,
    REFGRAPH_ADMIN_KEY: adminKey,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    ...settings,
  });
  // cwd is the temp folder so that a developer's .env (main.ts loads ./.env) cannot change the settings.
  const child = spawn(process.execPath, [path.join(ROOT, "dist/src/main.js")], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr])
    stream.on("data", (chunk) => process.stderr.write(chunk.toString().replace(/^(?=.)/gm, "[server] ")));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  // Never leave the server behind, even when this process exits before stop() (Ctrl-C during start-up, a crash).
  process.once("exit", () => child.kill("SIGTERM"));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, sleep(100)]);
    if (early) throw new Error(`the server exited before it was ready (code ${early.code}, signal ${early.signal})`);
    const ready = await fetch(`${url}/readyz`).then((res) => res.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error("the server was not ready within 60 s");
    }
  }
  return {
    url,
    /** The server's process id, to read its memory from /proc or to kill it when it stops answering. */
    pid: child.pid,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const stopped = await Promise.race([exited, sleep(15_000)]);
      if (!stopped) {
        console.error("the server did not stop within 15 s of SIGTERM; killing it");
        child.kill("SIGKILL");
        await exited;
      } else if (stopped.code !== 0) console.error(`the server exited with code ${stopped.code} after SIGTERM`);
    },
  };
}

/** Creates a fresh PostgreSQL database beside the one the URL names: the server takes its schema from the URL. */
async function freshPostgres(url) {
  const { Client } = require("pg");
  const name = `refgraph_bench_${randomBytes(4).toString("hex")}`;
  const admin = async (sql) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  return { url: fresh.toString(), name, drop: () => admin(`DROP DATABASE IF EXISTS ${name}`) };
}

module.exports = { freshPostgres, sleep, startServer };
