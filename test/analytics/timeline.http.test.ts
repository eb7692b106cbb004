import fc from "fast-check";
import { referralTimelines } from "../../src/referrals/referral-timeline";
import { step, stepEvent } from "../helpers/histories";
import { startServer, TestServer } from "../helpers/server";

// The timeline columns ingestion keeps on each referral must equal a recomputation, by the pure definitions, from
// the chat's stored referrals and inbound messages, whatever order and batching the webhooks arrived in.
const NOW = Date.parse("2026-11-10T12:00:00Z");
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

type Row = Record<string, string | number | boolean | null>;
const time = (value: unknown) => (value === null ? null : Number(value));

async function storedAndRecomputed(run: string) {
  const like = [`${run}\\_%`];
  const escape = " ESCAPE '\\'";
  const referrals: Row[] = await server.store.reader.query(
    `SELECT chat_id, ref, received_at, first_reply_at, last_touch_reply_at, is_first_touch, is_new_chat FROM referral WHERE chat_id LIKE ${server.database.schema ? "$1" : "?"}${escape} ORDER BY chat_id, received_at, ref`,
    like,
  );
  const messages: Row[] = await server.store.reader.query(
    `SELECT chat_id, posted_at FROM message WHERE direction = 'inbound' AND chat_id LIKE ${server.database.schema ? "$1" : "?"}${escape}`,
    like,
  );
  const stored = referrals.map((r) => ({
    chat: r.chat_id,
    ref: r.ref,
    receivedAt: time(r.received_at),
    firstReplyAt: time(r.first_reply_at),
    lastTouchReplyAt: time(r.last_touch_reply_at),
    isFirstTouch: Boolean(r.is_first_touch),
    isNewChat: Boolean(r.is_new_chat),
  }));
  const recomputed = stored.map((r) => {
    const chatReferrals = stored.filter((o) => o.chat === r.chat).map((o) => ({ ref: o.ref as string, receivedAt: new Date(o.receivedAt as number) }));
    const inbound = messages.filter((m) => m.chat_id === r.chat).map((m) => Number(m.posted_at));
    const mine = chatReferrals.find((o) => o.ref === r.ref && o.receivedAt.getTime() === r.receivedAt) as { ref: string; receivedAt: Date };
    const { receivedAt: _, ...timeline } = referralTimelines([mine, ...chatReferrals.filter((o) => o !== mine)], inbound)[0];
    return { chat: r.chat, ref: r.ref, receivedAt: r.receivedAt, ...timeline };
  });
  return { stored, recomputed };
}

// Steps, and the order they arrive in.
const history = fc
  .array(step(60, 24), { minLength: 1, maxLength: 16 })
  .chain((steps) => fc.tuple(fc.constant(steps), fc.shuffledSubarray([...steps.keys()], { minLength: steps.length, maxLength: steps.length })));

test("stored timelines equal a recomputation from the stored referrals and messages, in any arrival order", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(history, fc.integer({ min: 1, max: 8 }), async ([steps, order], concurrency) => {
      run += 1;
      const events = order.map((i) => stepEvent(steps[i], `t${run}`, i, NOW));
      for (let i = 0; i < events.length; i += concurrency) {
        const responses = await Promise.all(events.slice(i, i + concurrency).map((e) => server.deliver(e)));
        expect(responses.map((r) => r.body.status)).toEqual(responses.map(() => "PROCESSED"));
      }
      const { stored, recomputed } = await storedAndRecomputed(`t${run}`);
      const distinct = new Set(steps.filter((s) => s.kind !== "message").map((s) => `${s.chat} ${s.ref} ${s.minutesAgo}`));
      expect(stored).toHaveLength(distinct.size);
      expect(stored).toEqual(recomputed);
    }),
    { numRuns: 40 },
  );
});
