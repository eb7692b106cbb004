import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const MIGRATIONS = join(__dirname, "../../src/db/migrations");

/**
 * Each committed migration's SHA-256. A database that ran a migration never runs it again, so an edit reaches only
 * new databases and the two kinds drift apart. A new migration adds its line here once it is committed.
 */
const LANDED: Record<string, string> = {
  "1764057600000-CreateCoreTables.ts": "e978a7654c3b61fe658affc7db6c79b164be36fbd645980e6073e2437f4cf00f",
  "1795564800000-AddReferralAnalytics.ts": "5faa91d1bf7763625edd9a34d3f585de2fd91b64dbc6c034fbd45b4d26b32571",
  "1796083200000-AddBiViews.ts": "ab4c45884b68ff007d633bce32a095acd421ae0859978733313fb3c7d364a69d",
  "1796688000000-AddReferralRevision.ts": "ff8a4bae5d5f3bf770899e866257ef63d52a7080897b15db0aa87a224a5efc64",
  "1796774400000-CreateGreetings.ts": "bef758aca5aa8456607d4e36fdf48d0ffe164056b935d37c93303e70d72d57d9",
  "1796860800000-CreateGreetingRules.ts": "ba35666ace65b7cde704eb91effa1807da66a6f42a171b7592fe1e4de6b867fb",
  "1796947200000-AddGreetingReferralIndex.ts": "dffecbebc9ce6a4411575fb8d4606354962e7307f307e11c4b394b54b0fbcaab",
  "1797033600000-CreateReadinessProbe.ts": "d3086e13cb954384de7ff252876117151c743a286c063e33eed77e5bc71fb815",
};

test("no committed migration is edited or removed, and each new one is recorded", () => {
  const files = readdirSync(MIGRATIONS).filter((file) => /^\d+-\w+\.ts$/.test(file));
  const hash = (file: string) => createHash("sha256").update(readFileSync(join(MIGRATIONS, file))).digest("hex");
  const problems = [
    ...files.filter((file) => LANDED[file] && LANDED[file] !== hash(file)).map((file) => `${file} was edited after it landed: restore it and add a new migration instead`),
    ...Object.keys(LANDED).filter((file) => !files.includes(file)).map((file) => `${file} was removed after it landed: restore it and add a new migration instead`),
    ...files.filter((file) => !LANDED[file]).map((file) => `${file} is new: record it in LANDED as "${file}": "${hash(file)}"`),
  ];
  expect(problems).toEqual([]);
});
