import { GreetingService } from "./greeting.service";

/**
 * Retries greetings in the background: every interval it settles PENDING greetings and attempts the due ones
 * (GreetingService.retryDue). One turn at a time; several instances may run it on one database, as each attempt
 * claims its greeting first.
 */
export class GreetingWorker {
  private timer: NodeJS.Timeout | null = null;
  private turn: Promise<void> | null = null;

  constructor(
    private readonly greetings: GreetingService,
    private readonly clock: () => Date,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.turn ??= this.greetings
        .retryDue(this.clock())
        .catch(this.onError)
        .finally(() => {
          this.turn = null;
        });
    }, this.intervalMs);
  }

  /** Stops starting turns and waits for the one under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.turn;
  }
}
