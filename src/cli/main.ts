#!/usr/bin/env node
import "reflect-metadata";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/config";
import { openDatabase } from "../db/data-source";
import { entities } from "../entities";
import { reparseReferrals } from "../referrals/reparse";
import { keysCommand, UsageError } from "./keys";
import { seedDatabase, seedOptions } from "../dev/seed";

const USAGE = `usage: refgraph <command>
  keys create --name <name> --scope read|write   print a new API key (shown this once only)
  keys list                                       name, scope, created, status
  keys revoke <name>                              revoke a key at once
  reparse                                         parse every stored ref again with the current REF_GRAMMAR
  seed --referrals <n> --chats <n> --refs <n> --days <n> [--seed <int>] [--end <ISO time>]
                                                  write a synthetic history through webhook ingestion
Uses the server's DATABASE_URL (and .env when present).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      scope: { type: "string" },
      referrals: { type: "string" },
      chats: { type: "string" },
      refs: { type: "string" },
      days: { type: "string" },
      seed: { type: "string" },
      end: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !(command === "keys" || ((command === "reparse" || command === "seed") && rest.length === 0))) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const seed = command === "seed" ? seedOptions(values, new Date()) : undefined;
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  const db = await openDatabase(config.databaseUrl, { entities });
  try {
    if (command === "keys") await keysCommand(db, rest, values, (line) => console.log(line));
    else if (seed) console.log(await seedDatabase(db, config, seed, (line) => console.error(line)));
    else {
      // Batch by batch, outside one long transaction, so a running server's ingestion is never held up for long.
      const { scanned, changed } = await reparseReferrals(db.manager, config.grammar);
      console.log(`reparsed ${scanned} referrals with ${config.refGrammar ?? "the default key=value grammar"}: ${changed} changed`);
    }
    return 0;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    const expected = error instanceof UsageError || error instanceof ConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(expected ? `refgraph: ${error.message}` : error);
    process.exit(expected ? 2 : 1);
  },
);
