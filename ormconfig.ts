import "reflect-metadata";
import { DataSource } from "typeorm";
import { loadConfig } from "./src/config/config";
import { dataSourceOptions } from "./src/db/data-source";
import { entities } from "./src/entities";

// For the TypeORM CLI (npm run typeorm -- migration:show, migration:generate …), on the same DATABASE_URL as the server.
if (require("node:fs").existsSync(".env")) process.loadEnvFile(".env");
export default new DataSource(dataSourceOptions(loadConfig(process.env).databaseUrl, { entities }));
