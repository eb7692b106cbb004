import { Settled, WriteBatcher } from "../../src/db/write-batcher";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ok = <R>(values: R[]): Settled<R>[] => values.map((value) => ({ ok: true, value }));

async function until(condition: () => boolean) {
  for (let turn = 0; turn < 1000 && !condition(); turn++) await nextTurn();
  if (!condition()) throw new Error("condition never became true");
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A batcher whose flush records each batch and answers `<item>:done`, optionally waiting for `hold` first. */
function recordingBatcher(maxBatch: number, hold?: Promise<void>) {
  const batches: string[][] = [];
  const batcher = new WriteBatcher<string, string>(async (items) => {
    batches.push([...items]);
    if (hold) await hold;
    return ok(items.map((item) => `${item}:done`));
  }, maxBatch);
  return { batcher, batches };
}

describe("WriteBatcher", () => {
  test("items submitted in the same turn of the event loop share one flush", async () => {
    const { batcher, batches } = recordingBatcher(100);
    const results = Promise.all([batcher.submit("a"), batcher.submit("b"), batcher.submit("c")]);
    expect(batches).toEqual([]);
    expect(await results).toEqual(["a:done", "b:done", "c:done"]);
    expect(batches).toEqual([["a", "b", "c"]]);
  });

  test("items submitted after awaiting a promise in the same turn still join the first batch", async () => {
    const { batcher, batches } = recordingBatcher(100);
    const first = batcher.submit("a");
    await Promise.resolve();
    const second = batcher.submit("b");
    await Promise.all([first, second]);
    expect(batches).toEqual([["a", "b"]]);
  });

  test("items arriving while a batch is flushing wait and form the next batch together", async () => {
    const hold = gate();
    const { batcher, batches } = recordingBatcher(100, hold.opened);
    const first = batcher.submit("a");
    await until(() => batches.length === 1);

    const later = [batcher.submit("b"), batcher.submit("c")];
    await nextTurn();
    expect(batches).toEqual([["a"]]);

    hold.open();
    expect(await Promise.all([first, ...later])).toEqual(["a:done", "b:done", "c:done"]);
    expect(batches).toEqual([["a"], ["b", "c"]]);
  });

  test("a batch never holds more than maxBatch items", async () => {
    const { batcher, batches } = recordingBatcher(2);
    const results = await Promise.all(["a", "b", "c", "d", "e"].map((item) => batcher.submit(item)));
    expect(batches).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(results).toEqual(["a:done", "b:done", "c:done", "d:done", "e:done"]);
  });

  test("a failing flush rejects the promises of its own batch only", async () => {
    const failure = new Error("disk full");
    const batcher = new WriteBatcher<string, string>(async (items) => {
      if (items.includes("bad")) throw failure;
      return ok(items.map((item) => `${item}:done`));
    }, 2);
    const outcomes = await Promise.allSettled(["a", "bad", "c", "d"].map((item) => batcher.submit(item)));
    expect(outcomes).toEqual([
      { status: "rejected", reason: failure },
      { status: "rejected", reason: failure },
      { status: "fulfilled", value: "c:done" },
      { status: "fulfilled", value: "d:done" },
    ]);
  });

  test("a flush settles each item on its own: one batch resolves some callers and rejects others", async () => {
    const refused = new Error("database unavailable");
    const batcher = new WriteBatcher<string, string>(
      async (items) =>
        items.map((item): Settled<string> => (item.startsWith("bad") ? { ok: false, error: refused } : { ok: true, value: `${item}:done` })),
      10,
    );
    const outcomes = await Promise.allSettled(["a", "bad1", "b", "bad2"].map((item) => batcher.submit(item)));
    expect(outcomes).toEqual([
      { status: "fulfilled", value: "a:done" },
      { status: "rejected", reason: refused },
      { status: "fulfilled", value: "b:done" },
      { status: "rejected", reason: refused },
    ]);
  });

  test("a flush that throws before returning a promise rejects its batch and later batches still run", async () => {
    let calls = 0;
    const batcher = new WriteBatcher<string, number>((items) => {
      calls++;
      if (calls === 1) throw new Error("synchronous failure");
      return Promise.resolve(ok(items.map((item) => item.length)));
    }, 1);
    const outcomes = await Promise.allSettled([batcher.submit("x"), batcher.submit("yy")]);
    expect(outcomes).toEqual([
      { status: "rejected", reason: new Error("synchronous failure") },
      { status: "fulfilled", value: 2 },
    ]);
  });

  test("each caller gets the result at its own position in its batch", async () => {
    const batcher = new WriteBatcher<number, string>(async (items) => {
      await sleep(1);
      return ok(items.map((item) => `row-${item * 10}`));
    }, 3);
    const items = [1, 2, 3, 4, 5, 6, 7];
    const results = await Promise.all(items.map((item) => batcher.submit(item)));
    expect(results).toEqual(items.map((item) => `row-${item * 10}`));
  });

  test("drain resolves only once everything submitted, including items that arrived mid-flush, is flushed", async () => {
    const committed: string[] = [];
    const batcher = new WriteBatcher<string, void>(async (items) => {
      await sleep(5);
      committed.push(...items);
      if (items.includes("a")) setImmediate(() => void batcher.submit("late"));
      return ok(items.map(() => undefined));
    }, 2);
    for (const item of ["a", "b", "c"]) void batcher.submit(item);
    await batcher.drain();
    expect(committed).toEqual(["a", "b", "c", "late"]);
  });

  test("drain resolves at once when nothing was submitted", async () => {
    const flushed: number[][] = [];
    const batcher = new WriteBatcher<number, number>(async (items) => {
      flushed.push(items);
      return ok(items);
    }, 10);
    await batcher.drain();
    expect(flushed).toEqual([]);
  });

  test("drain resolves after a failed batch too", async () => {
    const batcher = new WriteBatcher<string, string>(async () => {
      throw new Error("nope");
    }, 10);
    const rejected = batcher.submit("a").catch((error: Error) => error.message);
    await batcher.drain();
    expect(await rejected).toBe("nope");
  });

  test("flushes never overlap, however submissions and flush times interleave", async () => {
    let running = 0;
    let mostAtOnce = 0;
    let flushes = 0;
    const batcher = new WriteBatcher<number, number>(async (items) => {
      running++;
      flushes++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await sleep(items[0] % 3);
      running--;
      return ok(items);
    }, 4);

    const pending: Promise<number>[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < round % 4 + 1; i++) pending.push(batcher.submit(round * 10 + i));
      await (round % 2 === 0 ? nextTurn() : sleep(1));
    }
    const results = await Promise.all(pending);
    await batcher.drain();

    expect(results).toHaveLength(pending.length);
    expect(flushes).toBeGreaterThan(1);
    expect(mostAtOnce).toBe(1);
  });

  test("each flush is told when its oldest item was submitted, so bounds can count from arrival", async () => {
    const hold = gate();
    const since: number[] = [];
    const batcher = new WriteBatcher<string, string>(async (items, waitingSince) => {
      since.push(waitingSince);
      if (since.length === 1) await hold.opened;
      return ok(items);
    }, 100);
    const beforeFirst = performance.now();
    const first = batcher.submit("a");
    const afterFirst = performance.now();
    await until(() => since.length === 1);
    const beforeSecond = performance.now();
    const second = [batcher.submit("b"), batcher.submit("c")];
    hold.open();
    await Promise.all([first, ...second]);
    expect(since).toHaveLength(2);
    expect(since[0]).toBeGreaterThanOrEqual(beforeFirst);
    expect(since[0]).toBeLessThanOrEqual(afterFirst);
    expect(since[1]).toBeGreaterThanOrEqual(beforeSecond);
  });
});
