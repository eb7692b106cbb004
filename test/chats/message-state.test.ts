import fc from "fast-check";
import { mergeMessage } from "../../src/chats/message-state";
import { Message } from "../../src/chats/message.entity";
import { MessageFacts, OutboundStatus } from "../../src/webhooks/envelope";

const T0 = Date.parse("2026-08-20T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

const outbound = (status: OutboundStatus, seconds: number, more: Partial<MessageFacts> = {}): MessageFacts => ({
  id: "msg_1",
  chatId: "ch_1",
  direction: "outbound",
  status,
  body: null,
  postedAt: null,
  tappedAction: null,
  externalId: null,
  errorMessage: null,
  statusAt: at(seconds),
  ...more,
});

const fold = (facts: MessageFacts[], start: Message | null = null) =>
  facts.reduce<Message | null>((message, fact) => mergeMessage(message, fact), start) as Message;

describe("mergeMessage", () => {
  test("an outbound message advances through sent, delivered and read, recording each time", () => {
    const message = fold([outbound("sent", 1, { externalId: "mid.1", postedAt: at(1) }), outbound("delivered", 2), outbound("read", 3)]);
    expect(message).toMatchObject({
      id: "msg_1",
      chatId: "ch_1",
      direction: "outbound",
      status: "read",
      externalId: "mid.1",
      postedAt: at(1),
      sentAt: at(1),
      deliveredAt: at(2),
      readAt: at(3),
      failedAt: null,
    });
  });

  test("a delivered event arriving after read leaves the message read, but records its time", () => {
    const message = fold([outbound("read", 3), outbound("delivered", 2)]);
    expect(message.status).toBe("read");
    expect(message.deliveredAt).toEqual(at(2));
    expect(message.readAt).toEqual(at(3));
  });

  test("a sent event arriving after delivered leaves the message delivered", () => {
    expect(fold([outbound("delivered", 2), outbound("sent", 1)]).status).toBe("delivered");
  });

  test("a retry that succeeds moves the message from failed_waiting_for_retry to sent", () => {
    expect(fold([outbound("failed_waiting_for_retry", 1), outbound("sent", 60)]).status).toBe("sent");
  });

  test("a failed message stays failed and keeps its error message", () => {
    const message = fold([outbound("failed", 5, { errorMessage: "Outside the messaging window" }), outbound("sent", 1)]);
    expect(message).toMatchObject({ status: "failed", errorMessage: "Outside the messaging window", failedAt: at(5), sentAt: at(1) });
  });

  test("a pending message stored at send time moves forward with the first status event", () => {
    const pending = Object.assign(new Message(), {
      id: "msg_1",
      chatId: "ch_1",
      direction: "outbound",
      status: "pending",
      body: "Hi Jane!",
      postedAt: null,
      tappedAction: null,
      externalId: null,
      errorMessage: null,
      sentAt: null,
      deliveredAt: null,
      readAt: null,
      failedAt: null,
    });
    expect(mergeMessage(pending, outbound("failed_waiting_for_retry", 1))).toMatchObject({ status: "failed_waiting_for_retry", body: "Hi Jane!" });
  });

  test("a repeated status keeps its earliest time", () => {
    expect(fold([outbound("delivered", 9), outbound("delivered", 4), outbound("delivered", 7)]).deliveredAt).toEqual(at(4));
  });

  test("postedAt is the earliest posted time seen", () => {
    expect(fold([outbound("sent", 5, { postedAt: at(5) }), outbound("delivered", 6, { postedAt: at(3) })]).postedAt).toEqual(at(3));
  });

  test("known values are kept when a later event lacks them", () => {
    const message = fold([outbound("sent", 1, { externalId: "mid.1", body: "hi" }), outbound("delivered", 2)]);
    expect(message).toMatchObject({ externalId: "mid.1", body: "hi" });
  });

  test("an inbound message is received and stays inbound", () => {
    const inbound: MessageFacts = {
      id: "msg_in",
      chatId: "ch_1",
      direction: "inbound",
      status: "received",
      body: "hello",
      postedAt: at(0),
      tappedAction: '{"kind":"quick_reply","payload":"YES","title":"Yes"}',
      externalId: "mid.in",
      errorMessage: null,
      statusAt: null,
    };
    const message = mergeMessage(null, inbound);
    expect(message).toMatchObject({ direction: "inbound", status: "received", body: "hello", postedAt: at(0), tappedAction: inbound.tappedAction });
    expect(mergeMessage(message, { ...inbound, direction: "outbound" }).direction).toBe("inbound");
  });

  test("the current message is not modified", () => {
    const current = mergeMessage(null, outbound("sent", 1));
    const snapshot = { ...current };
    mergeMessage(current, outbound("read", 3, { externalId: "mid.1" }));
    expect(current).toEqual(snapshot);
  });

  test("folding the same status events in any order gives the same status and times", () => {
    const statusEvent = fc
      .record({
        status: fc.constantFrom<OutboundStatus>("sent", "delivered", "read", "failed_waiting_for_retry", "failed"),
        second: fc.integer({ min: 0, max: 20 }),
      })
      .map(({ status, second }) => outbound(status, second));
    const listAndShuffle = fc
      .array(statusEvent, { minLength: 1, maxLength: 8 })
      .chain((facts) => fc.tuple(fc.constant(facts), fc.shuffledSubarray(facts, { minLength: facts.length })));
    const outcome = ({ status, sentAt, deliveredAt, readAt, failedAt }: Message) => ({ status, sentAt, deliveredAt, readAt, failedAt });

    fc.assert(
      fc.property(listAndShuffle, ([facts, shuffled]) => {
        expect(outcome(fold(shuffled))).toEqual(outcome(fold(facts)));
      }),
    );
  });
});
