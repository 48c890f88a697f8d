/**
 * Spawning the built CLI (`dist/cli.js`) as a child process, so exit codes,
 * signals and kill -9 are real. Every child is tracked and killed in the end,
 * even when a test fails or the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUNNER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(RUNNER_DIR, 'dist', 'cli.js');

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the runner first (npx nx run runner:build)`);

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: cwd ?? RUNNER_DIR,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        children.delete(this.child);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when stdout+stderr match, rejects when the process exits first or after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (this.stdout + this.stderr).match(pattern);
      if (m) return m;
      if (!this.running) throw new Error(`the CLI exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}:\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  output(): string {
    return `--- stdout\n${this.stdout.slice(-4000)}\n--- stderr\n${this.stderr.slice(-6000)}`;
  }

  /** Sends a signal and waits for the exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<CliResult> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  async kill9(): Promise<CliResult> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const proc = new CliProcess(args, options.env, options.cwd);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}

export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
