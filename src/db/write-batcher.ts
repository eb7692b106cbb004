interface Pending<I, R> {
  item: I;
  /** performance.now() when it was submitted. */
  submittedAt: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** One item's result from a flush: its value, or the error its caller's promise rejects with. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Group commit. Writes that arrive while a batch is committing wait and then share the next transaction, so a
 * burst costs one durable commit instead of one per request, and writes never run concurrently — which SQLite's
 * single shared connection in TypeORM requires. Each caller's promise settles after its own batch commits, with its
 * own item's result: one batch may resolve some callers and reject others. A flush that throws rejects them all.
 */
export class WriteBatcher<I, R> {
  private waiting: Pending<I, R>[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    /** Writes a batch; `waitingSince` is when its oldest item was submitted, for bounds that count from arrival. */
    private readonly flush: (items: I[], waitingSince: number) => Promise<Settled<R>[]>,
    private readonly maxBatch: number,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, submittedAt: performance.now(), resolve, reject });
      this.flushing ??= this.flushAll();
    });
  }

  /** Resolves once everything submitted so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushAll(): Promise<void> {
    // Let requests parsed in the same turn of the event loop join the first batch.
    await new Promise(setImmediate);
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.flush(
          batch.map((pending) => pending.item),
          batch[0].submittedAt,
        );
        batch.forEach((pending, i) => {
          const result = results[i];
          if (result.ok) pending.resolve(result.value);
          else pending.reject(result.error);
        });
      } catch (error) {
        batch.forEach((pending) => pending.reject(error));
      }
    }
    this.flushing = null;
  }
}
