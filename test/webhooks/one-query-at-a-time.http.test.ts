import { spawn } from "node:child_process";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signatureHeader } from "../../src/webhooks/signature";
import { referralEvent } from "../helpers/events";
import { freePort, processDatabaseUrl } from "../helpers/processes";
import { createTestDatabase, SECRET } from "../helpers/server";

// Ingestion used to send a transaction's reads (and then its writes) together on one connection. node-postgres
// queues them but warns that pg 9 removes this ("DeprecationWarning: Calling client.query() when the client is
// already executing a query is deprecated"). Node writes process warnings to stderr, which a test's own process
// cannot watch (jest gives each test file a copy of `process`), so the real server runs as a child process.

const MAIN = join(__dirname, "../../dist/src/main.js");

test("the server ingests a batch of deliveries, repeats and late referrals among them, without a process warning", async () => {
  const database = await createTestDatabase();
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: String(port), DATABASE_URL: processDatabaseUrl(database), POSTPROXY_WEBHOOK_SECRET: SECRET },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const closed = once(child, "close");
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("Server listening")) resolve();
      });
      child.once("exit", () => reject(new Error(`the server exited before listening:\n${stdout}\n${stderr}`)));
    });

    const events = Array.from({ length: 60 }, (_, i) =>
      referralEvent({ chat: { id: `one_at_a_time_${i % 7}`, platform: "instagram" }, ref: `ref_${i % 5}`, receivedAt: Date.now() - (i % 11) * 60_000 }),
    );
    const statuses = await Promise.all([...events, ...events.slice(0, 10)].map((event) => deliver(`http://127.0.0.1:${port}`, event)));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    child.kill("SIGTERM");
    expect(await closed).toEqual([0, null]);
    expect(stderr.split("\n").filter((line) => line.includes("Warning"))).toEqual([]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await database.drop();
  }
});

async function deliver(url: string, event: { id: string }): Promise<number> {
  const body = JSON.stringify(event);
  const response = await fetch(`${url}/webhooks/postproxy`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-postproxy-signature": signatureHeader(SECRET, body, Math.floor(Date.now() / 1000)) },
    body,
  });
  return response.status;
}
