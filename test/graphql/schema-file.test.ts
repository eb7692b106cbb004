import { readFileSync } from "node:fs";
import { join } from "node:path";
import { printRefgraphSchema } from "../../src/graphql/schema";

test("schema/schema.graphql is what the resolvers declare (run npm run build and commit it when this fails)", async () => {
  const committed = readFileSync(join(__dirname, "../../schema/schema.graphql"), "utf8");
  expect(committed).toBe(await printRefgraphSchema());
});
