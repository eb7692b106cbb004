import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../app";
import { loadConfig } from "../config/config";
import { openStore } from "../db/data-source";
import { entities } from "../entities";
import { FakePostproxy } from "./fake-postproxy";
import { signatureHeader } from "../webhooks/signature";
import { message, SeedEvent, seedEvents } from "./seed-events";

// `npm run demo`: refgraph on a fresh SQLite file with the fake Postproxy, fed a day of signed webhook traffic in
// seconds, with a greeting rule at work; then three example queries and their answers. It keeps running for more
// queries until Ctrl-C (`--exit` stops it after the answers, for tests).

const RULE = `mutation {
  createGreetingRule(input: { name: "Summer welcome", refPattern: "*summer*", trigger: ON_REFERRAL,
    body: "Hi {{participant.name}}! Thanks for your interest in {{campaign}}. How can we help?" }) { id }
}`;

const EXAMPLES: [string, string][] = [
  [
    "Which campaigns and channels bring conversations (last 24 hours)?",
    `{
  campaignStats(groupBy: [CAMPAIGN, CHANNEL], range: LAST_24H, orderBy: { field: CONVERSIONS, direction: DESC }, first: 5) {
    totals { referrals uniqueChats conversions conversionRate }
    rows { key { campaign channel } metrics { referrals conversions conversionRate medianSecondsToFirstMessage } }
  }
}`,
  ],
  [
    "A chat's full referral history (Postproxy keeps only the latest):",
    `{
  chats(first: 1, filter: { hasReferral: true }) {
    edges { node { id platform participant { name } referrals(first: 5) { totalCount edges { node { ref source receivedAt } } } } }
  }
}`,
  ],
  [
    "Greetings the rule sent through Postproxy, and which campaigns' greetings get answers:",
    `{
  greetings(first: 2) { totalCount edges { node { status body referral { ref } sentAt } } }
  campaignStats(groupBy: [CAMPAIGN], range: LAST_24H, orderBy: { field: GREETINGS_SENT, direction: DESC }, first: 3) {
    rows { key { campaign } metrics { referrals greetingsSent greetingReplies } }
  }
}`,
  ],
];

async function main(exitAfterAnswers: boolean): Promise<void> {
  // Listening from the start: a Ctrl-C while the demo loads waits for it, instead of ending it with the folder left behind.
  const stopAsked = new Promise<void>((resolve) => ["SIGINT", "SIGTERM"].forEach((signal) => process.once(signal, () => resolve())));
  const dir = mkdtempSync(join(tmpdir(), "refgraph-demo-"));
  const secret = `whsec_demo_${randomBytes(12).toString("hex")}`;
  const adminKey = `demo_admin_${randomBytes(12).toString("hex")}`;
  const fake = new FakePostproxy({ apiKey: `pp_demo_${randomBytes(8).toString("hex")}`, webhookSecret: secret });
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, "refgraph.sqlite")}`,
    POSTPROXY_WEBHOOK_SECRET: secret,
    REFGRAPH_ADMIN_KEY: adminKey,
    POSTPROXY_API_KEY: fake.options.apiKey,
    POSTPROXY_BASE_URL: await fake.start(),
    PORT: process.env.PORT ?? "4000",
    LOG_LEVEL: "warn",
  });
  const store = await openStore(config.databaseUrl, { entities, timeouts: config.databaseTimeouts });
  const app = await buildApp(config, store);
  const url = await app.listen({ port: config.port, host: config.host });
  fake.options.webhookUrl = `${url}/webhooks/postproxy`;
  const graphql = async (query: string) => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ query }),
    });
    const answer = (await response.json()) as { data?: unknown; errors?: unknown };
    if (answer.errors) throw new Error(`the demo's query failed: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  };

  const stop = async () => {
    await app.close();
    await fake.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await graphql(RULE);
    const started = Date.now();
    let delivered = await feed(url, secret, [...seedEvents({ referrals: 600, chats: 200, refs: 40, days: 1, seed: 42, end: new Date() })]);
    // The rule's greetings go out through the worker; Postproxy's message.sent webhooks follow.
    const unsettled = `{ queued: greetings(filter: { status: QUEUED }) { totalCount } sending: greetings(filter: { status: SENDING }) { totalCount } pending: greetings(filter: { status: PENDING }) { totalCount } }`;
    // Bounded, but long enough for a busy machine: the demo's answers show these greetings settled.
    for (let waited = 0; waited < 120_000; waited += 250) {
      const { queued, sending, pending } = (await graphql(unsettled)) as Record<string, { totalCount: number }>;
      if (queued.totalCount + sending.totalCount + pending.totalCount === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Every second greeted person answers.
    const greeted = (await graphql(`{ greetings(first: 100, filter: { status: PUBLISHED }) { edges { node { chat { id } } } } }`)) as {
      greetings: { edges: { node: { chat: { id: string } } }[] };
    };
    const now = Date.now();
    delivered += await feed(
      url,
      secret,
      greeted.greetings.edges
        .filter((_, i) => i % 2 === 0)
        .map(({ node }, i) => ({
          body: { id: `evt_demo_reply_${i}`, object: "event", type: "message.received", created_at: new Date(now).toISOString(), data: { message: message(`msg_demo_reply_${i}`, node.chat.id, "Yes please!", now) } },
          chatId: node.chat.id,
          deliveryId: `dlv_demo_reply_${i}`,
          receivedAt: new Date(now),
        })),
    );
    console.log(`refgraph demo: ${delivered} signed webhooks from the fake Postproxy in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    for (const [question, query] of EXAMPLES) console.log(`# ${question}\n${query}\n${JSON.stringify(await graphql(query), null, 2)}\n`);
    console.log(`GraphQL: ${url}/graphql\nAPI key: ${adminKey}  (send it as "Authorization: Bearer <key>")`);
    if (exitAfterAnswers) return await stop();
    console.log("Ctrl-C stops the demo and deletes its database.");
    await stopAsked;
    await stop();
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Posts the events as Postproxy would, signed, 16 at a time. */
async function feed(url: string, secret: string, events: SeedEvent[]): Promise<number> {
  let next = 0;
  const post = async () => {
    for (let i = next++; i < events.length; i = next++) {
      const body = JSON.stringify(events[i].body);
      const response = await fetch(`${url}/webhooks/postproxy`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-postproxy-event": String(events[i].body.type),
          "x-postproxy-delivery": events[i].deliveryId,
          "x-postproxy-signature": signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
      });
      if (!response.ok) throw new Error(`the demo's webhook was answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, post));
  return events.length;
}

main(process.argv.includes("--exit")).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
