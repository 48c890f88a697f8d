/** Runs test/fixtures/child.mts in a real child process and SIGKILLs it at its hang point. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/child.mts', import.meta.url));

export async function runChildUntilHangThenKill(args: Record<string, unknown>): Promise<{ point: string; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const point = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += String(d);
      const m = /HANG (\w+)/.exec(stdout);
      if (m) resolve(m[1]!);
      if (stdout.includes('DONE')) reject(new Error(`child finished without reaching its hang point:\n${stdout}\n${stderr}`));
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before its hang point:\n${stdout}\n${stderr}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  return { point, signal: await exited };
}
