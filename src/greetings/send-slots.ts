/** How many sends may be under way at once: the worker takes a slot per send and gives it back when it ends. */
export class SendSlots {
  private taken = 0;

  constructor(private readonly size: number) {}

  get free(): number {
    return this.size - this.taken;
  }

  take(): void {
    if (this.free === 0) throw new Error("no free send slot");
    this.taken += 1;
  }

  release(): void {
    this.taken -= 1;
  }
}
