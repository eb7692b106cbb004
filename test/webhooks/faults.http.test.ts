import { FaultProxy } from "../../src/dev/fault-proxy";
import { referralEvent } from "../helpers/events";
import { fillDisk, freeDisk } from "../helpers/full-disk";
import { createTestDatabase, startServer, TestServer } from "../helpers/server";

// Issue 12, item 1: a connection reset once made events FAILED and answered 200, so Postproxy never retried them. A
// fault of the database or its connection answers 503 and leaves nothing behind; only an event's own content makes
// it FAILED.

type Event = ReturnType<typeof referralEvent>;

const FAILED_COUNT = `{ webhookEvents(filter: { status: FAILED }) { totalCount } }`;

/** Sends every event until each is answered 200, as Postproxy retries a 503; every answer must be 200 or 503, never FAILED. */
async function deliverUntilStored(server: TestServer, events: Event[]): Promise<void> {
  const deadline = Date.now() + 45_000;
  let pending = events;
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} deliveries still refused`);
    const answers = await Promise.all(pending.map((event) => server.deliver(event)));
    answers.forEach((answer) => expect([200, 503]).toContain(answer.status));
    expect(answers.filter((answer) => answer.status === 200).map((answer) => answer.body.status)).not.toContain("FAILED");
    pending = pending.filter((_, i) => answers[i].status !== 200);
  }
}

async function storedIds(server: TestServer, table: "webhook_event" | "chat"): Promise<Set<string>> {
  const rows: Array<{ id: string }> = await server.store.reader.query(`SELECT id FROM ${table}`);
  return new Set(rows.map((row) => row.id));
}

const events = (count: number, prefix: string, padding = "") =>
  Array.from({ length: count }, (_, i) => referralEvent({ chat: `ch_${prefix}_${i}`, ref: `r${i}`, extra: padding ? { padding } : {} }));

if (process.env.TEST_DATABASE_URL) {
  describe("PostgreSQL behind a proxy that resets connections", () => {
    let proxy: FaultProxy;
    let server: TestServer;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const database = await createTestDatabase();
      drop = database.drop;
      const target = new URL(database.url);
      proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const address = await proxy.listen();
      const proxied = new URL(database.url);
      proxied.host = `${address.host}:${address.port}`;
      server = await startServer({}, {}, { ...database, url: proxied.toString() });
    });
    afterAll(async () => {
      await server.close();
      await proxy.close();
      await drop();
    });

    test("deliveries while connections are refused answer 503 and are stored once retried, none FAILED", async () => {
      proxy.setMode("refuse");
      proxy.resetAll();
      const refused = events(10, "refused");
      const answers = await Promise.all(refused.map((event) => server.deliver(event)));
      expect(answers.map((answer) => answer.status)).toEqual(refused.map(() => 503));
      expect(answers[0].body.code).toBe("SERVICE_UNAVAILABLE");

      proxy.setMode("pass");
      await deliverUntilStored(server, refused);
      const stored = await storedIds(server, "webhook_event");
      expect(refused.filter((event) => !stored.has(event.id))).toEqual([]);
      expect((await server.graphql(FAILED_COUNT)).body.data.webhookEvents.totalCount).toBe(0);
    });

    test("connections reset while webhooks are in flight: every answer 200 or 503, never FAILED, and retries store all", async () => {
      const all: Event[] = [];
      const rounds: Promise<unknown>[] = [];
      for (let round = 0; round < 6; round++) {
        const batch = events(20, `reset${round}`);
        all.push(...batch);
        rounds.push(deliverUntilStored(server, batch));
        // Let the round's requests reach the database, then cut every connection under them.
        await new Promise(setImmediate);
        proxy.resetAll();
      }
      await Promise.all(rounds);
      const stored = await storedIds(server, "webhook_event");
      expect(all.filter((event) => !stored.has(event.id))).toEqual([]);
      expect((await server.graphql(FAILED_COUNT)).body.data.webhookEvents.totalCount).toBe(0);
    });
  });
} else {
  describe("SQLite with a full disk", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(() => server.close());

    test("writes failing with SQLITE_FULL answer 503 with nothing half-written, none FAILED, and retries store them once there is room", async () => {
      await fillDisk(server);
      // Each body needs pages of its own (overflow pages), so none fits in the free space left in existing pages.
      const full = events(20, "full", "x".repeat(8_000));
      const answers = await Promise.all(full.map((event) => server.deliver(event)));
      expect(answers.map((answer) => answer.status)).toEqual(full.map(() => 503));
      expect(answers[0].body.code).toBe("SERVICE_UNAVAILABLE");
      const [inbox, chats] = [await storedIds(server, "webhook_event"), await storedIds(server, "chat")];
      expect(full.filter((event) => inbox.has(event.id))).toEqual([]);
      expect(full.filter((_, i) => chats.has(`ch_full_${i}`))).toEqual([]);
      expect((await server.graphql(FAILED_COUNT)).body.data.webhookEvents.totalCount).toBe(0);

      await freeDisk(server);
      await deliverUntilStored(server, full);
      const stored = await storedIds(server, "webhook_event");
      expect(full.filter((event) => !stored.has(event.id))).toEqual([]);
      expect((await server.graphql(FAILED_COUNT)).body.data.webhookEvents.totalCount).toBe(0);
    });
  });
}

describe("an event whose own content cannot be applied", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test("is kept FAILED and answered 200, and the events of its batch are applied as if it were not there", async () => {
    // Break writes to the message table so applying message.received fails inside the database: not a fault.
    await server.store.writer.query("ALTER TABLE message RENAME COLUMN tapped_action TO tapped_away");
    const neighbours = events(20, "neighbour");
    const failing = { ...referralEvent({ chat: "unused", ref: "x" }), type: "message.received", data: { message: { id: "msg_broken", chat_id: "ch_broken" } } };
    const [failed, ...answers] = await Promise.all([failing, ...neighbours].map((event) => server.deliver(event)));
    await server.store.writer.query("ALTER TABLE message RENAME COLUMN tapped_away TO tapped_action");
    expect(failed).toEqual({ status: 200, body: { id: failing.id, status: "FAILED", duplicate: false } });
    expect(answers.map((answer) => [answer.status, answer.body.status])).toEqual(neighbours.map(() => [200, "PROCESSED"]));
    expect((await server.graphql(FAILED_COUNT)).body.data.webhookEvents.totalCount).toBe(1);
  });
});
