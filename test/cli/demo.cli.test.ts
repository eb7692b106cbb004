import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// `npm run demo` as a newcomer runs it (here with --exit, so it stops after its answers).

const DEMO = join(__dirname, "../../dist/src/dev/demo.js");

test("the demo feeds signed traffic through the fake Postproxy and answers its three example queries with real numbers", async () => {
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [DEMO, "--exit"], { cwd: tmpdir(), env: { PATH: process.env.PATH, PORT: "0" }, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  // Nothing logged: no webhook FAILED, no error.
  expect(run.stdout.split("\n").filter((line) => line.startsWith('{"level"'))).toEqual([]);
  expect(run.stdout).toMatch(/^refgraph demo: \d+ signed webhooks from the fake Postproxy in [\d.]+ s/);
  const answers = [...run.stdout.matchAll(/^\}\n(\{\n[\s\S]*?\n\})\n/gm)].map((match) => JSON.parse(match[1]));
  expect(answers).toHaveLength(3);
  const [stats, chats, greetings] = answers;
  expect(stats.campaignStats.totals.referrals).toBeGreaterThan(0);
  expect(stats.campaignStats.totals.conversions).toBeGreaterThan(0);
  expect(stats.campaignStats.rows.length).toBeGreaterThan(0);
  expect(chats.chats.edges[0].node.referrals.totalCount).toBeGreaterThan(0);
  expect(greetings.greetings.totalCount).toBeGreaterThan(0);
  // Every second greeted person answered: campaigns with greetings show replies.
  const greeted = greetings.campaignStats.rows.filter((row: any) => row.metrics.greetingsSent > 0);
  expect(greeted.length).toBeGreaterThan(0);
  expect(greeted.some((row: any) => row.metrics.greetingReplies > 0)).toBe(true);
  for (const { node } of greetings.greetings.edges) {
    expect(node.status).toBe("PUBLISHED");
    expect(node.body).toMatch(/^Hi [A-Z][a-z]+ [A-Z][a-z]+! Thanks for your interest in \S+\. How can we help\?$/);
  }
  expect(run.stdout).toMatch(/GraphQL: http:\/\/127\.0\.0\.1:\d+\/graphql\nAPI key: demo_admin_[0-9a-f]+/);
}, 120_000);

test("Ctrl-C stops the demo and deletes its database", async () => {
  // The demo makes its folder in TMPDIR: a folder of the test's own shows what it leaves behind.
  const temp = mkdtempSync(join(tmpdir(), "refgraph-demo-test-"));
  try {
    const child = spawn(process.execPath, [DEMO], { cwd: temp, env: { PATH: process.env.PATH, PORT: "0", TMPDIR: temp }, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stdout = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("Ctrl-C stops the demo")) resolve();
      });
      void exited.then(() => reject(new Error(`the demo exited before serving: ${stdout}`)));
    });
    expect(readdirSync(temp)).toHaveLength(1);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(readdirSync(temp)).toEqual([]);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}, 180_000);
