/**
 * Logging and progress. Log lines go to stderr (`HH:MM:SS level component: text`);
 * what a user must see (the dashboard URL, a summary) goes to stdout. Progress
 * bars (cli-progress) are drawn only on a terminal; elsewhere (Docker logs, CI,
 * a test that spawns the CLI) the same progress is logged as a line now and then.
 */
import { SingleBar } from 'cli-progress';
import type { LogLevel } from './flags.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Output {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export class Logger {
  private activeBar: SingleBar | null = null;

  constructor(
    readonly level: LogLevel,
    readonly out: Output = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  error(component: string, text: string): void {
    this.write('error', component, text);
  }
  warn(component: string, text: string): void {
    this.write('warn', component, text);
  }
  info(component: string, text: string): void {
    this.write('info', component, text);
  }
  debug(component: string, text: string): void {
    this.write('debug', component, text);
  }

  /** A line for stdout, whatever the level (URLs, summaries). */
  print(text: string): void {
    this.clearBar();
    this.out.stdout.write(`${text}\n`);
  }

  /** A progress bar on a TTY, periodic log lines otherwise. Call `stop()` when done. */
  progress(component: string, label: string, total: number | null, unit: string): Progress {
    const tty = this.out.stderr.isTTY === true && this.enabled('info');
    if (tty) {
      this.clearBar();
      const bar = new SingleBar(
        {
          stream: this.out.stderr as NodeJS.WritableStream,
          format: total === null ? `${label} {value} ${unit} | {duration_formatted}` : `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
          fps: 10,
          formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? Number(v).toLocaleString('en-US') : String(v)),
        },
        undefined,
      );
      bar.start(total ?? 0, 0);
      this.activeBar = bar;
      return {
        update: (done, newTotal) => {
          if (newTotal !== undefined && newTotal !== null) bar.setTotal(newTotal);
          bar.update(done);
        },
        stop: (summary) => {
          bar.stop();
          if (this.activeBar === bar) this.activeBar = null;
          if (summary) this.info(component, summary);
        },
      };
    }
    let last = 0;
    let current = 0;
    let currentTotal = total;
    const started = Date.now();
    const line = () => `${label}: ${current.toLocaleString('en-US')}${currentTotal === null ? '' : ` / ${currentTotal.toLocaleString('en-US')}`} ${unit}`;
    return {
      update: (done, newTotal) => {
        current = done;
        if (newTotal !== undefined) currentTotal = newTotal;
        const now = Date.now();
        if (now - last >= 2_000 && now - started >= 1_000) {
          last = now;
          this.info(component, line());
        }
      },
      stop: (summary) => {
        if (summary) this.info(component, summary);
      },
    };
  }

  private clearBar(): void {
    // A log line in the middle of a bar would be overwritten: end the bar's line first.
    if (this.activeBar) this.out.stderr.write('\n');
  }

  private write(level: LogLevel, component: string, text: string): void {
    if (!this.enabled(level)) return;
    this.clearBar();
    const time = new Date().toISOString().slice(11, 19);
    this.out.stderr.write(`${time} ${level.padEnd(5)} ${component}: ${text}\n`);
  }
}

export interface Progress {
  update(done: number, total?: number | null): void;
  stop(summary?: string): void;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatMs(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}
