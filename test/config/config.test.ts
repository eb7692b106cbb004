import { ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { ConfigError, loadConfig, startupWarnings } from "../../src/config/config";
import { freePort, processDatabaseUrl } from "../helpers/processes";
import { createTestDatabase } from "../helpers/server";

const MAIN = join(__dirname, "../../dist/src/main.js");

/** The ConfigError loadConfig throws for this environment; fails the test when it does not throw one. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  test("an empty environment gives the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: "127.0.0.1",
      databaseUrl: "sqlite:./data/refgraph.sqlite",
      webhookSecrets: [],
      adminKey: undefined,
      storeMessageBodies: false,
      webhookToleranceSeconds: undefined,
      corsOrigins: [],
      nodeEnv: "development",
      logLevel: "info",
    });
    expect(config.isProduction).toBe(false);
  });

  test("every variable is read from the environment it is given", () => {
    const config = loadConfig({
      PORT: "8080",
      METRICS_PORT: "9464",
      HOST: "0.0.0.0",
      DATABASE_URL: "postgres://refgraph@db:5432/refgraph",
      POSTPROXY_WEBHOOK_SECRET: "whsec_new, whsec_old",
      REFGRAPH_ADMIN_KEY: "admin-key-0123456789",
      STORE_MESSAGE_BODIES: "TRUE",
      WEBHOOK_TOLERANCE_SECONDS: "300",
      CORS_ORIGINS: "https://app.example.com,http://localhost:3000",
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 8080,
      metricsPort: 9464,
      host: "0.0.0.0",
      databaseUrl: "postgres://refgraph@db:5432/refgraph",
      webhookSecrets: ["whsec_new", "whsec_old"],
      adminKey: "admin-key-0123456789",
      storeMessageBodies: true,
      webhookToleranceSeconds: 300,
      corsOrigins: ["https://app.example.com", "http://localhost:3000"],
      nodeEnv: "production",
      logLevel: "warn",
    });
    expect(config.isProduction).toBe(true);
  });

  test.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["METRICS_PORT", "abc"],
    ["METRICS_PORT", "-1"],
    ["DATABASE_URL", "mysql://x"],
    ["STORE_MESSAGE_BODIES", "maybe"],
    ["WEBHOOK_TOLERANCE_SECONDS", "-5"],
    ["WEBHOOK_TOLERANCE_SECONDS", "1.5"],
    ["CORS_ORIGINS", "not-an-origin"],
    ["LOG_LEVEL", "loud"],
    ["NODE_ENV", "staging"],
  ])("%s=%s stops the start with an error naming the variable and the value given", (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.message).toContain(`${variable}:`);
    expect(error.message).toContain(JSON.stringify(value));
  });

  test("a too-short REFGRAPH_ADMIN_KEY is refused by name, without showing the key", () => {
    const error = configError({ REFGRAPH_ADMIN_KEY: "short-sekrit" });
    expect(error.message).toContain("REFGRAPH_ADMIN_KEY: must be at least 16 characters");
    expect(error.message).not.toContain("short-sekrit");
  });

  test("an empty secret in POSTPROXY_WEBHOOK_SECRET is refused by name, without showing the secrets", () => {
    const error = configError({ POSTPROXY_WEBHOOK_SECRET: "whsec_alpha,,whsec_beta" });
    expect(error.message).toContain("POSTPROXY_WEBHOOK_SECRET: must not contain an empty secret");
    expect(error.message).not.toMatch(/whsec_alpha|whsec_beta/);
  });

  test.each([
    ["summer", "must contain at least one placeholder such as {campaign}"],
    ["{campaign}--{campaign}", "must not repeat a placeholder"],
    ["{campaign}{channel}", "needs literal text between placeholders (e.g. --)"],
    ["{campaign}--{channel", "has a brace outside a {name} placeholder"],
  ])("REF_GRAMMAR=%s stops the start with an error naming REF_GRAMMAR, the problem and the value given", (template, problem) => {
    const error = configError({ REF_GRAMMAR: template });
    const line = error.message.split("\n").find((entry) => entry.trim().startsWith("REF_GRAMMAR:"));
    expect(line).toBeDefined();
    expect(line).toContain(problem);
    expect(line).toContain(JSON.stringify(template));
  });

  test("a valid REF_GRAMMAR template is accepted and becomes the grammar refs are parsed with", () => {
    const config = loadConfig({ REF_GRAMMAR: "{campaign}--{channel}--{variant}" });
    expect(config.refGrammar).toBe("{campaign}--{channel}--{variant}");
    expect(config.grammar("summer--qr-berlin--a")).toEqual({ campaign: "summer", channel: "qr-berlin", variant: "a", tags: [] });
  });

  test("REF_GRAMMAR unset or empty selects the key=value grammar", () => {
    for (const env of [{}, { REF_GRAMMAR: "" }]) {
      const config = loadConfig(env);
      expect(config.refGrammar).toBeUndefined();
      expect(config.grammar("c=summer--ch=bio--v=b")).toEqual({ campaign: "summer", channel: "bio", variant: "b", tags: [] });
      expect(config.grammar("summer--qr-berlin--a")).toEqual({ campaign: "summer--qr-berlin--a", channel: null, variant: null, tags: [] });
    }
  });

  test("every bad variable is named in one error, so one restart fixes them all", () => {
    const error = configError({ PORT: "-1", LOG_LEVEL: "loud", REFGRAPH_ADMIN_KEY: "tiny" });
    expect(error.message.split("\n").slice(1).map((line) => line.trim().split(":")[0]).sort()).toEqual([
      "LOG_LEVEL",
      "PORT",
      "REFGRAPH_ADMIN_KEY",
    ]);
  });

  test("production without a webhook secret or an admin key stops the start, naming both", () => {
    const error = configError({ NODE_ENV: "production" });
    expect(error.message).toContain("POSTPROXY_WEBHOOK_SECRET: is required when NODE_ENV=production");
    expect(error.message).toContain("REFGRAPH_ADMIN_KEY: is required when NODE_ENV=production");
  });

  test("production with only one of the two names just the missing one", () => {
    const noKey = configError({ NODE_ENV: "production", POSTPROXY_WEBHOOK_SECRET: "whsec_only" });
    expect(noKey.message).toContain("REFGRAPH_ADMIN_KEY");
    expect(noKey.message).not.toContain("POSTPROXY_WEBHOOK_SECRET");
    expect(noKey.message).not.toContain("whsec_only");
    const noSecret = configError({ NODE_ENV: "production", REFGRAPH_ADMIN_KEY: "admin-key-0123456789" });
    expect(noSecret.message).toContain("POSTPROXY_WEBHOOK_SECRET");
    expect(noSecret.message).not.toContain("REFGRAPH_ADMIN_KEY");
  });

  test("the config is frozen", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(4000);
  });
});

describe("startupWarnings", () => {
  test("development without a secret or an admin key warns about both, loudly", () => {
    const warnings = startupWarnings(loadConfig({}));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^POSTPROXY_WEBHOOK_SECRET is not set: UNSIGNED WEBHOOKS ARE ACCEPTED/);
    expect(warnings[1]).toMatch(/^REFGRAPH_ADMIN_KEY is not set: GRAPHQL IS OPEN TO ANYONE/);
  });

  test("nothing is warned about once both are set", () => {
    expect(startupWarnings(loadConfig({ POSTPROXY_WEBHOOK_SECRET: "whsec_x", REFGRAPH_ADMIN_KEY: "admin-key-0123456789" }))).toEqual([]);
  });
});

describe("the server process", () => {
  /** Whether anything accepts a TCP connection on the port. */
  const answers = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      const settle = (accepted: boolean) => {
        socket.destroy();
        resolve(accepted);
      };
      socket.once("connect", () => settle(true)).once("error", () => settle(false));
      socket.setTimeout(1000, () => settle(false));
    });

  function start(env: Record<string, string>) {
    // Only what is given here: the parent's NODE_ENV, TEST_DATABASE_URL and the like must not leak in.
    const child = spawn(process.execPath, [MAIN], { cwd: __dirname, env: { PATH: process.env.PATH ?? "", ...env } });
    const output = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk) => (output.stdout += chunk));
    child.stderr.on("data", (chunk) => (output.stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, output, exited };
  }

  const stop = (child: ChildProcess) => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");

  test("in production without a secret or an admin key it exits non-zero, naming both, and never listens", async () => {
    const port = await freePort();
    const { child, output, exited } = start({ NODE_ENV: "production", PORT: String(port), DATABASE_URL: "sqlite::memory:" });
    try {
      let listened = false;
      let done = false;
      const code = exited.finally(() => (done = true));
      while (!done) {
        if (await answers(port)) listened = true;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await code).not.toBe(0);
      expect(listened).toBe(false);
      expect(output.stderr).toContain("POSTPROXY_WEBHOOK_SECRET");
      expect(output.stderr).toContain("REFGRAPH_ADMIN_KEY");
      expect(output.stdout).not.toMatch(/listening/i);
    } finally {
      stop(child);
    }
  });

  test("in development without a secret or an admin key it starts, warns about both, and stops cleanly on SIGTERM", async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const databaseUrl = processDatabaseUrl(database);
    const { child, output, exited } = start({ NODE_ENV: "development", PORT: String(port), DATABASE_URL: databaseUrl });
    try {
      let healthy = false;
      for (const deadline = Date.now() + 45_000; !healthy && child.exitCode === null && Date.now() < deadline; ) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.ok, () => false);
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(healthy).toBe(true);

      const warnings = output.stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.level === 40)
        .map((entry) => entry.msg as string);
      expect(warnings).toEqual([
        expect.stringMatching(/^WARNING: POSTPROXY_WEBHOOK_SECRET is not set/),
        expect.stringMatching(/^WARNING: REFGRAPH_ADMIN_KEY is not set/),
      ]);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await answers(port)).toBe(false);
    } finally {
      stop(child);
      await database.drop();
    }
  });
});
