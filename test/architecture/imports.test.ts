import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const ROOT = resolve(__dirname, "../..");
const SRC = join(ROOT, "src");

/** Every .ts file under `folder`, as a path relative to the repository. */
function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

/** A relative import's file (repository-relative), or the package's name for anything else. */
function resolveImport(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const target = resolve(ROOT, dirname(from), specifier);
  const file = [`${target}.ts`, join(target, "index.ts")].find(existsSync);
  if (!file) throw new Error(`${from} imports ${specifier}, which is not a .ts file`);
  return relative(ROOT, file);
}

/** What each source file imports (static, dynamic and require), resolved. */
const imports = new Map(
  sourceFiles(SRC).map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true);
    return [file, [...new Set(importedFiles.map(({ fileName }) => resolveImport(file, fileName)))]];
  }),
);

/** A cycle for each group of files that reach one another through imports, as the files along it (the first one again last). */
function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    const back = path.indexOf(file);
    if (back >= 0) return cycles.push([...path.slice(back), file]);
    if (done.has(file) || !graph.has(file)) return;
    path.push(file);
    for (const target of graph.get(file)!) visit(target);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

const importsOutside = (files: (file: string) => boolean, allowed: (target: string) => boolean) =>
  [...imports].filter(([file]) => files(file)).flatMap(([file, targets]) => targets.filter((target) => !allowed(target)).map((target) => `${file} -> ${target}`));

const isNode = (target: string) => target.startsWith("node:");
const inDb = (file: string) => file.startsWith("src/db/");
const isMigration = (file: string) => /^src\/db\/migrations\/\d+-\w+\.ts$/.test(file);

test("no source file reaches itself through its imports", () => {
  // On failure jest prints each cycle, file by file.
  expect(importCycles(imports).map((cycle) => cycle.join(" -> "))).toEqual([]);
});

test("src/db imports nothing above it: only Node, TypeORM, the database drivers and src/db itself", () => {
  expect(importsOutside(inDb, (target) => isNode(target) || ["typeorm", "sqlite3", "pg"].includes(target) || inDb(target))).toEqual([]);
});

test("a migration imports only TypeORM, so later changes to live code never change what it does", () => {
  expect(importsOutside(isMigration, (target) => target === "typeorm")).toEqual([]);
});

test("the cycle check finds a cycle and names its files", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts", "typeorm"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
  ]);
  expect(importCycles(graph)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
  expect(importCycles(new Map([["a.ts", ["b.ts"]], ["b.ts", []]]))).toEqual([]);
});
