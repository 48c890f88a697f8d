/**
 * Running until told to stop. Components register their shutdown step as they
 * start (`onStop`); steps run in reverse order (stop consumers, flush, close the
 * dataset, close the server). The first SIGINT/SIGTERM starts a clean shutdown;
 * a second one exits at once. A component failure (`fail`) shuts down the same
 * way and makes the command exit non-zero. SIGHUP (the terminal went away) is
 * a clean shutdown too.
 */
import { EXIT, describeError, exitCodeFor, type ExitCode } from './exit-codes.js';
import type { Logger } from './log.js';

type Step = { readonly name: string; readonly run: () => Promise<void> | void };

/** Thrown by `checkpoint()` when a shutdown began while the command was starting. */
export class StartupStopped extends Error {
  constructor() {
    super('stopped while starting');
  }
}

export class Lifecycle {
  private readonly steps: Step[] = [];
  private resolveDone!: (code: ExitCode) => void;
  private readonly done = new Promise<ExitCode>((resolve) => (this.resolveDone = resolve));
  private stopping: Promise<ExitCode> | null = null;
  private signals = 0;
  private firstSignalAt: number | null = null;
  private readonly handlers: Array<[NodeJS.Signals, () => void]> = [];
  private readonly abort = new AbortController();
  /** Aborted as soon as a shutdown starts (signal or failure): for loops and producers to stop. */
  readonly signal: AbortSignal = this.abort.signal;

  constructor(private readonly log: Logger) {}

  /**
   * Call between startup steps: throws once a shutdown has begun (Ctrl-C during
   * startup), so nothing more is started. Commands catch it (and any error the
   * shutdown caused) with `stoppedDuringStartup`.
   */
  checkpoint(): void {
    if (this.signal.aborted) throw new StartupStopped();
  }

  /**
   * Runs a service command (`start`, `speed`, ...): `startup` starts its
   * components, registering their shutdown steps; then it runs until a signal
   * or a component failure stops it. Resolves with the exit code. See `guard`
   * for a failing startup.
   */
  async runUntilStopped(startup: () => Promise<void>): Promise<ExitCode> {
    await this.guard(startup);
    return this.wait();
  }

  /** Runs a finite command (`generate`, `batch --once`): `work`, then a clean shutdown. */
  async runToCompletion(work: () => Promise<void>): Promise<ExitCode> {
    await this.guard(work);
    return this.shutdown(EXIT.ok);
  }

  /**
   * A body that throws has what it started shut down and the error rethrown
   * (the CLI maps it to an exit code), unless the error only follows a shutdown
   * already under way (Ctrl-C during startup): then that shutdown decides the
   * exit code, and the caller gets it from `wait()`.
   */
  private async guard(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      if (this.stoppedDuringStartup()) return;
      await this.shutdown(EXIT.ok);
      throw error;
    }
  }

  /** True when a startup error is just the consequence of a shutdown in progress. */
  stoppedDuringStartup(): boolean {
    return this.signal.aborted;
  }

  /** Registers a shutdown step (run in reverse registration order). */
  onStop(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Installs the signal handlers. */
  trapSignals(): void {
    for (const [signal, code] of [['SIGINT', EXIT.sigint], ['SIGTERM', EXIT.sigterm], ['SIGHUP', EXIT.sighup]] as const) {
      const handler = () => this.onSignal(signal, code);
      process.on(signal, handler);
      this.handlers.push([signal, handler]);
    }
  }

  /**
   * What a SIGINT/SIGTERM does: the first starts a clean shutdown; another one
   * a moment later exits at once. The same Ctrl-C often arrives twice (from the
   * terminal and forwarded by npm or a wrapper), so repeats within a second are ignored.
   */
  onSignal(signal: NodeJS.Signals, code: ExitCode, exit: (code: number) => void = process.exit): void {
    const now = Date.now();
    if (this.firstSignalAt !== null) {
      if (now - this.firstSignalAt < 1_000) return;
      this.log.warn('lambdaline', `${signal} again: exiting now without a clean shutdown`);
      exit(code);
      return;
    }
    this.firstSignalAt = now;
    this.signals++;
    this.log.info('lambdaline', `${signal}: shutting down cleanly (press Ctrl-C again to force)`);
    void this.shutdown(code);
  }

  /** A component failed for good: shut down and exit with the matching code. */
  fail(component: string, error: unknown): void {
    if (this.stopping) return;
    this.log.error(component, describeError(error));
    void this.shutdown(exitCodeFor(error) === EXIT.ok ? EXIT.failure : exitCodeFor(error));
  }

  /** Watches a promise that only ever rejects (a component's `failed`). */
  watch(component: string, failed: Promise<unknown>): void {
    failed.catch((error: unknown) => this.fail(component, error));
  }

  /** Resolves with the exit code once shut down. */
  wait(): Promise<ExitCode> {
    return this.done;
  }

  shutdown(code: ExitCode): Promise<ExitCode> {
    if (!this.stopping) {
      this.abort.abort();
      this.stopping = (async () => {
        let result: ExitCode = code;
        for (const step of [...this.steps].reverse()) {
          try {
            await step.run();
          } catch (error) {
            this.log.error('shutdown', `${step.name}: ${describeError(error)}`);
            if (result === EXIT.ok) result = EXIT.failure;
          }
        }
        for (const [signal, handler] of this.handlers) process.off(signal, handler);
        if (this.signals > 0 || result !== EXIT.ok) this.log.info('lambdaline', `stopped (exit code ${result})`);
        this.resolveDone(result);
        return result;
      })();
    }
    return this.stopping;
  }
}
