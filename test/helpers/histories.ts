import fc from "fast-check";
import { messageEvent, referralEvent } from "./events";

/** One webhook of a random chat history: a referral, an inbound message, or a message carrying a referral. */
export type Step = { kind: "referral" | "message" | "message-with-referral"; chat: number; ref: string; minutesAgo: number };

/** Steps over three chats and four refs; a coarse grid of `gridMinutes` makes equal timestamps (ties) common. */
export const step = (gridMinutes: number, slots: number) =>
  fc.record({
    kind: fc.constantFrom("referral", "message", "message-with-referral"),
    chat: fc.integer({ min: 0, max: 2 }),
    ref: fc.constantFrom("bio", "qr_berlin", "c=ad--v=a", "c=ad--v=b"),
    minutesAgo: fc.integer({ min: 0, max: slots }).map((m) => m * gridMinutes),
  }) as fc.Arbitrary<Step>;

/** The webhook for step `i` of run `run` (ids and chat ids are prefixed with the run, so runs never meet). */
export function stepEvent(s: Step, run: string, i: number, now: number) {
  const chat = `${run}_ch${s.chat}`;
  const at = now - s.minutesAgo * 60_000;
  if (s.kind === "referral") return referralEvent({ id: `${run}_evt${i}`, chat, ref: s.ref, receivedAt: at });
  const extra = s.kind === "message-with-referral" ? { referral: { ref: s.ref, source: "SHORTLINKS", type: "OPEN_THREAD" } } : {};
  return messageEvent({ id: `${run}_evt${i}`, chatId: chat, messageId: `${run}_msg${i}`, postedAt: at, extra });
}
