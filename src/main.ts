import "reflect-metadata";
import { existsSync } from "node:fs";
import { buildApp } from "./app";
import { ConfigError, loadConfig, startupWarnings } from "./config/config";
import { openStore } from "./db/data-source";
import { entities } from "./entities";

async function main() {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  const store = await openStore(config.databaseUrl, { entities, timeouts: config.databaseTimeouts });
  const app = await buildApp(config, store);
  for (const warning of startupWarnings(config)) app.log.warn(`WARNING: ${warning}`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info(`${signal}: no longer accepting; finishing in-flight requests and commits`);
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
