import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { referralEvent } from "../helpers/events";
import { startServer } from "../helpers/server";

// On SQLite (the default, so on a SQLite file whichever database the suite runs on) committed pages are copied from
// the write-ahead log into the database file by a connection of its own, not by the commit of an ingest batch.

test("the SQLite write-ahead log reaches the database file in the background, well before the writer's own threshold", async () => {
  const dir = mkdtempSync(join(tmpdir(), "refgraph-checkpoint-"));
  const file = join(dir, "refgraph.sqlite");
  const server = await startServer({}, {}, { url: `sqlite:${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) });
  try {
    const size = () => statSync(file).size;
    const before = size();
    const events = Array.from({ length: 300 }, (_, i) => referralEvent({ chat: { id: `cp_${i % 40}`, platform: "instagram" }, ref: `ref_${i % 7}`, receivedAt: Date.now() - i * 60_000 }));
    const answers = await Promise.all(events.map((event) => server.deliver(event)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    // These few hundred pages stay under the 10,000 at which the writer would copy them itself.
    expect(statSync(`${file}-wal`).size).toBeLessThan(10_000 * 4096);
    for (const deadline = Date.now() + 30_000; size() <= before && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(size()).toBeGreaterThan(before);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
