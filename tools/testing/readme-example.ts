/**
 * Test helper shared by the libs: runs the example that opens a package's
 * README.md against the package's source (through tsx) and returns what it
 * printed, so each lib's test can check the README says the truth.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReadmeExampleOptions {
  /** The package folder (holding README.md and src/index.ts). */
  readonly packageRoot: string;
  /** The import specifier the example uses, replaced by the source entry. */
  readonly packageName: string;
  /** Adjusts the code before it runs (e.g. a free port, closing a server). */
  readonly transform?: (code: string) => string;
}

export async function runReadmeExample(options: ReadmeExampleOptions): Promise<string> {
  const { packageRoot, packageName } = options;
  const readme = await readFile(join(packageRoot, 'README.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error(`${packageRoot}/README.md has no js example`);
  const code = block[1]!.replaceAll(`from '${packageName}'`, `from ${JSON.stringify(join(packageRoot, 'src', 'index.ts'))}`);
  const dir = join(packageRoot, 'test-output');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'readme-example.mts');
  await writeFile(file, options.transform ? options.transform(code) : code);
  return new Promise<string>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`README example exited ${status}: ${err}`))));
  });
}
