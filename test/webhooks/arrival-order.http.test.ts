import fc from "fast-check";
import { Step, step, stepEvent } from "../helpers/histories";
import { startServer, TestServer } from "../helpers/server";

// Every derived value must be the same whatever order (and batching) the webhooks arrive in.
const NOW = new Date("2026-11-10T12:00:00Z");
let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { now: () => NOW });
});
afterAll(() => server.close());

const steps = step(30, 48);
const toEvent = (s: Step, run: string, i: number) => stepEvent(s, run, i, NOW.getTime());

async function deliverAll(events: object[], concurrency: number) {
  for (let i = 0; i < events.length; i += concurrency) {
    const responses = await Promise.all(events.slice(i, i + concurrency).map((e) => server.deliver(e)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
  }
}

const CHAT_FIELDS = `createdAt lastInboundAt
  metadata { referral { ref source type receivedAt } lastReferralAt }
  messagingWindow { isOpen expiresAt openedBy }
  firstReferral { ref receivedAt isNewChat } latestReferral { ref receivedAt }
  referrals(first: 100) { totalCount edges { node { ref receivedAt source isNewChat } } }`;

async function view(run: string) {
  const { body } = await server.graphql(`{ c0: chat(id: "${run}_ch0") { ${CHAT_FIELDS} } c1: chat(id: "${run}_ch1") { ${CHAT_FIELDS} } c2: chat(id: "${run}_ch2") { ${CHAT_FIELDS} } }`);
  expect(body.errors).toBeUndefined();
  return body.data;
}

test("any arrival order and batching of the same webhooks gives the same chats, referrals, isNewChat and windows", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(steps, { minLength: 1, maxLength: 14 }), fc.integer(), async (steps, seed) => {
      run += 1;
      const [a, b] = [`a${run}`, `b${run}`];
      const shuffled = steps.map((s, i) => ({ s, i, key: Math.sin(seed + i) })).sort((x, y) => x.key - y.key);
      await deliverAll(steps.map((s, i) => toEvent(s, a, i)), 1);
      await deliverAll(shuffled.map(({ s, i }) => toEvent(s, b, i)), 8);
      expect(await view(b)).toEqual(await view(a));
    }),
    { numRuns: 25 },
  );
});
