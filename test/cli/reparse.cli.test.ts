import { referralEvent } from "../helpers/events";
import { runCliWithEnv, useTestStore } from "../helpers/processes";
import { startServer, TestDatabase, TestServer } from "../helpers/server";

const TEMPLATE = "{campaign}--{channel}--{variant}";
const T0 = Date.parse("2026-09-01T12:00:00Z");

const reparse = (database: TestDatabase, env: Record<string, string> = {}) => runCliWithEnv(database, env, "reparse");

describe("refgraph reparse on referrals a server stored", () => {
  let server: TestServer;
  const REFS = ["summer--qr-berlin--a", "summer_promo", "c=summer--ch=bio--v=b", "winter--qr--b", "spring"];

  const DEFAULT_READING = {
    "summer--qr-berlin--a": { campaign: "summer--qr-berlin--a", channel: null, variant: null, tags: [] },
    summer_promo: { campaign: "summer_promo", channel: null, variant: null, tags: [] },
    "c=summer--ch=bio--v=b": { campaign: "summer", channel: "bio", variant: "b", tags: [] },
    "winter--qr--b": { campaign: "winter--qr--b", channel: null, variant: null, tags: [] },
    spring: { campaign: "spring", channel: null, variant: null, tags: [] },
  };
  const TEMPLATE_READING = {
    "summer--qr-berlin--a": { campaign: "summer", channel: "qr-berlin", variant: "a", tags: [] },
    summer_promo: { campaign: "summer_promo", channel: null, variant: null, tags: [] },
    "c=summer--ch=bio--v=b": { campaign: "c=summer", channel: "ch=bio", variant: "v=b", tags: [] },
    "winter--qr--b": { campaign: "winter", channel: "qr", variant: "b", tags: [] },
    spring: { campaign: "spring", channel: null, variant: null, tags: [] },
  };

  /** Each referral's parts as GraphQL shows them, by ref. */
  async function readings() {
    const { body } = await server.graphql(`{ referrals(first: 100) { edges { node { ref parsed { campaign channel variant tags { key value } } } } } }`);
    expect(body.errors).toBeUndefined();
    return Object.fromEntries(body.data.referrals.edges.map((edge: any) => [edge.node.ref, edge.node.parsed]));
  }

  const storedRows = () => server.store.reader.query("SELECT event_id, chat_id, ref, received_at FROM referral ORDER BY id");

  beforeAll(async () => {
    server = await startServer();
    for (const [i, ref] of REFS.entries())
      expect((await server.deliver(referralEvent({ chat: `chat_${i}`, ref, receivedAt: T0 + i * 60_000 }))).status).toBe(200);
  });
  afterAll(() => server.close());

  test("the server stored the refs under the default grammar", async () => {
    expect(await readings()).toEqual(DEFAULT_READING);
  });

  /** Referrals per campaign, as campaignStats counts them. */
  async function campaigns() {
    const { body } = await server.graphql(`{ campaignStats(groupBy: [CAMPAIGN], range: ALL, orderBy: { field: KEY, direction: ASC }) { rows { key { campaign } metrics { referrals } } } }`);
    expect(body.errors).toBeUndefined();
    return body.data.campaignStats.rows.map((row: any) => [row.key.campaign, row.metrics.referrals]);
  }

  test("reparse with a template rewrites the parts to the template's reading, counts the changes, and leaves the raw refs alone", async () => {
    expect(await campaigns()).toEqual([...Object.values(DEFAULT_READING).map((reading) => [reading.campaign, 1])].sort());
    const before = await storedRows();
    const run = await reparse(server.database, { REF_GRAMMAR: TEMPLATE });
    expect(run).toEqual({ code: 0, stdout: `reparsed 5 referrals with ${TEMPLATE}: 3 changed\n`, stderr: "" });
    expect(await readings()).toEqual(TEMPLATE_READING);
    // campaignStats, which read the referrals before the reparse, counts them under their new campaigns.
    expect(await campaigns()).toEqual([["c=summer", 1], ["spring", 1], ["summer", 1], ["summer_promo", 1], ["winter", 1]]);
    expect(await storedRows()).toEqual(before);
    expect(before.map((row: { ref: string }) => row.ref)).toEqual(REFS);

    const { body } = await server.graphql(`{ referrals(filter: { channel: "qr-berlin" }) { edges { node { ref } } } }`);
    expect(body.data.referrals.edges).toEqual([{ node: { ref: "summer--qr-berlin--a" } }]);
  });

  test("a second run with the same template reports 0 changed", async () => {
    const run = await reparse(server.database, { REF_GRAMMAR: TEMPLATE });
    expect(run).toEqual({ code: 0, stdout: `reparsed 5 referrals with ${TEMPLATE}: 0 changed\n`, stderr: "" });
    expect(await readings()).toEqual(TEMPLATE_READING);
  });

  test("an invalid REF_GRAMMAR stops reparse with exit code 2, naming REF_GRAMMAR, and changes nothing", async () => {
    const run = await reparse(server.database, { REF_GRAMMAR: "{campaign}{channel}" });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("REF_GRAMMAR: ");
    expect(run.stderr).toContain("needs literal text between placeholders");
    expect(await readings()).toEqual(TEMPLATE_READING);
  });

  test("reparse without REF_GRAMMAR brings back the key=value reading", async () => {
    const run = await reparse(server.database);
    expect(run).toEqual({ code: 0, stdout: "reparsed 5 referrals with the default key=value grammar: 3 changed\n", stderr: "" });
    expect(await readings()).toEqual(DEFAULT_READING);
    expect((await storedRows()).map((row: { ref: string }) => row.ref)).toEqual(REFS);
  });
});

describe("refgraph reparse on more referrals than one batch", () => {
  const context = useTestStore();
  const COUNT = 2_500;
  const refOf = (i: number) => `camp${i}--qr--v${i % 2}`;

  beforeAll(async () => {
    // Even rows already hold the template's reading, odd rows the default grammar's, so both batches hold changes.
    const rows = Array.from({ length: COUNT }, (_, i) => {
      const [campaign, channel, variant] = i % 2 === 0 ? [`'camp${i}'`, "'qr'", "'v0'"] : [`'${refOf(i)}'`, "NULL", "NULL"];
      return `('e${i}', 'c${i}', '${refOf(i)}', ${T0 + i}, ${campaign}, ${channel}, ${variant})`;
    });
    await context.store.writer.query(`INSERT INTO referral (event_id, chat_id, ref, received_at, campaign, channel, variant) VALUES ${rows.join(", ")}`);
  });

  test("every referral is reparsed, and only the ones whose parts differ are counted and rewritten", async () => {
    const first = await reparse(context.database, { REF_GRAMMAR: TEMPLATE });
    expect(first).toEqual({ code: 0, stdout: `reparsed ${COUNT} referrals with ${TEMPLATE}: ${COUNT / 2} changed\n`, stderr: "" });

    const rows: { ref: string; campaign: string; channel: string; variant: string; tags: string | null }[] = await context.store.reader.query(
      "SELECT ref, campaign, channel, variant, tags FROM referral ORDER BY id",
    );
    expect(rows).toHaveLength(COUNT);
    rows.forEach((row, i) => expect(row).toEqual({ ref: refOf(i), campaign: `camp${i}`, channel: "qr", variant: `v${i % 2}`, tags: null }));

    const again = await reparse(context.database, { REF_GRAMMAR: TEMPLATE });
    expect(again.stdout).toBe(`reparsed ${COUNT} referrals with ${TEMPLATE}: 0 changed\n`);
  });
});
