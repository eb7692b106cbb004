import { ClaimedGreeting, GreetingService } from "./greeting.service";
import { SendSlots } from "./send-slots";

export interface GreetingWorkerOptions {
  clock: () => Date;
  /** How often a turn settles PENDING greetings and looks for due ones. */
  intervalMs: number;
  /** Most sends under way at once (GREETING_SEND_CONCURRENCY). */
  concurrency: number;
  onError: (error: unknown) => void;
  /** Called after each turn (tests wait for one instead of sleeping). */
  onTurn?: () => void;
}

/**
 * Sends and retries greetings in the background. A turn claims as many due greetings as there are free send slots,
 * in one statement, and sends them side by side; when a send ends and more may be due, the next turn starts at once
 * rather than at the next interval. One turn at a time; several instances may run it on one database, as a claim
 * never takes a greeting another holds. While a 429 pauses sends, turns claim nothing.
 */
export class GreetingWorker {
  private timer: NodeJS.Timeout | null = null;
  private turn: Promise<void> | null = null;
  /** Another turn was asked for while one ran. */
  private again = false;
  /** The last claim filled every free slot, so more greetings may be due. */
  private moreDue = false;
  private stopped = false;
  private readonly slots: SendSlots;
  private readonly sends = new Set<Promise<void>>();

  constructor(
    private readonly greetings: GreetingService,
    private readonly options: GreetingWorkerOptions,
  ) {
    this.slots = new SendSlots(options.concurrency);
  }

  start(): void {
    this.timer = setInterval(() => this.startTurn(true), this.options.intervalMs);
  }

  /** Stops starting turns and waits for the turn and the sends under way, and their outcomes' writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.turn || this.sends.size > 0) await Promise.all([this.turn, ...this.sends]);
    await this.greetings.drain();
  }

  private startTurn(sweep: boolean): void {
    if (this.stopped) return;
    if (this.turn) {
      this.again ||= !sweep;
      return;
    }
    this.turn = this.runTurn(sweep)
      .catch(this.options.onError)
      .finally(() => {
        this.turn = null;
        this.options.onTurn?.();
        if (this.again) {
          this.again = false;
          this.startTurn(false);
        }
      });
  }

  private async runTurn(sweep: boolean): Promise<void> {
    if (sweep) await this.greetings.settlePending();
    const now = this.options.clock();
    const free = this.slots.free;
    if (free === 0 || !this.greetings.canSend || this.greetings.sendsPaused(now)) return;
    const claimed = await this.greetings.claimDue(now, free);
    this.moreDue = claimed.length === free;
    for (const claim of claimed) this.send(claim, now);
  }

  private send(claim: ClaimedGreeting, now: Date): void {
    this.slots.take();
    const sending = this.greetings
      .attempt(claim, now)
      .catch(this.options.onError)
      .finally(() => {
        this.slots.release();
        this.sends.delete(sending);
        // After the other sends whose outcomes were written in the same batch have given their slots back too.
        if (this.moreDue) setImmediate(() => this.startTurn(false));
      });
    this.sends.add(sending);
  }
}
