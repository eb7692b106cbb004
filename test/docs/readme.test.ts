import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_VARIABLES } from "../../src/config/config";
import { ERROR_CODES } from "../../src/errors";

const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
const tableRows = (firstCell: RegExp) =>
  readme
    .split("\n")
    .filter((line) => firstCell.test(line))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));

test("README's error table lists exactly the codes refgraph answers with, with their status and meaning", () => {
  const rows = tableRows(/^\| `[A-Z_]+` \| \d{3} \|/);
  expect(rows).toEqual(Object.entries(ERROR_CODES).map(([code, { status, meaning }]) => [`\`${code}\``, String(status), meaning]));
});

test("README's configuration table lists every environment variable with its description", () => {
  const rows = tableRows(/^\| `[A-Z_]+` \| [^0-9]/);
  expect(rows).toEqual(Object.entries(CONFIG_VARIABLES).map(([name, description]) => [`\`${name}\``, description]));
});

test("README starts with the two set-up commands", () => {
  const firstBlock = readme.slice(readme.indexOf("```sh"), readme.indexOf("```", readme.indexOf("```sh") + 5));
  expect(firstBlock).toContain("npm install && npm start");
  expect(firstBlock).toContain("npm test");
});
