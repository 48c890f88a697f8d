/** Events per second over the last `seconds` whole seconds (a ring of per-second counts). */
export class RateMeter {
  private readonly counts: number[];
  private readonly slots: number;
  private currentSecond = -1;
  total = 0;

  constructor(
    private readonly seconds = 10,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = seconds + 1;
    this.counts = new Array<number>(this.slots).fill(0);
  }

  mark(n = 1): void {
    this.advance();
    this.counts[this.currentSecond % this.slots]! += n;
    this.total += n;
  }

  /** Average rate over the last `seconds` full seconds (the running second is left out). */
  rate(): number {
    this.advance();
    let sum = 0;
    for (let s = this.currentSecond - this.seconds; s < this.currentSecond; s++) if (s >= 0) sum += this.counts[s % this.slots]!;
    return sum / this.seconds;
  }

  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    if (this.currentSecond < 0) {
      this.currentSecond = second;
      return;
    }
    if (second <= this.currentSecond) return;
    const steps = Math.min(second - this.currentSecond, this.slots);
    for (let i = 1; i <= steps; i++) this.counts[(this.currentSecond + i) % this.slots] = 0;
    this.currentSecond = second;
  }
}
