import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { printRefgraphSchema } from "./schema";

// Run by `npm run build`: keeps schema/schema.graphql equal to what the resolvers declare.
printRefgraphSchema().then((sdl) => writeFileSync(join(__dirname, "../../../schema/schema.graphql"), sdl));
