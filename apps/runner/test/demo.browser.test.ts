/**
 * `lambdaline demo` as a user sees it: the built CLI in its own process, the
 * dashboard in Debian's headless Chromium (playwright-core). The page shows
 * both views with data, live updates arrive, and the batch version and
 * horizon move on while we watch. Screenshot: test-output/demo.png.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, RUNNER_DIR, killAll } from './helpers/cli.js';
import { freePort } from './helpers/kafka.js';

declare const window: any;
declare const document: { getElementById(id: string): { textContent: string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let demo: CliProcess;
let url: string;
let profile: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  const port = await freePort();
  demo = new CliProcess(['demo', '--port', String(port), '--days', '2', '--events-per-day', '5000', '--rate', '100', '--batch-every', '4s']);
  url = (await demo.waitFor(/dashboard\s+(http:\/\/\S+)/, 90_000))[1]!;
  profile = await mkdtemp(join(tmpdir(), 'lambdaline-demo-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
    viewport: { width: 1440, height: 1100 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await demo?.stop('SIGINT', 15_000);
  await killAll();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe('lambdaline demo in headless Chromium', () => {
  it('shows data, live updates and an advancing batch horizon', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    await page.waitForFunction(() => {
      const views = window.lambdalineDashboard?.state.views;
      return views?.sensor_5min?.plot && views?.daily_by_category?.plot && views.sensor_5min.rows.size > 100 && views.daily_by_category.rows.size >= 8;
    }, undefined, { timeout: 60_000 });

    const version = async () => Number((await page.textContent('#batch-version'))?.replace(/^v/, '') ?? 0);
    await page.waitForFunction(() => /^v\d+$/.test(document.getElementById('batch-version')?.textContent ?? ''));
    const firstVersion = await version();
    const horizonOf = () => page.evaluate(() => Date.parse(window.lambdalineDashboard.state.views.sensor_5min.horizon?.maxEventTime ?? '') || 0);
    const firstHorizon = await horizonOf();
    const firstUpdates = await page.evaluate(() => window.lambdalineDashboard.state.views.sensor_5min.updates as number);

    // Live: the speed layer's changes reach the chart over SSE.
    await page.waitForFunction((before) => window.lambdalineDashboard.state.views.sensor_5min.updates > before, firstUpdates, { timeout: 30_000 });
    // The batch reruns every 4 s: the version and the horizon move on.
    await page.waitForFunction((v) => Number((document.getElementById('batch-version')?.textContent ?? '').slice(1)) > v + 1, firstVersion, { timeout: 60_000 });
    expect(await version()).toBeGreaterThan(firstVersion);
    // The chart's horizon (the dashed line) moved right with the new snapshot.
    await page.waitForFunction((h) => Date.parse(window.lambdalineDashboard.state.views.sensor_5min.horizon?.maxEventTime ?? '') > h, firstHorizon, { timeout: 30_000 });
    expect(await horizonOf()).toBeGreaterThan(firstHorizon);
    expect(await page.textContent('#pair-mode')).toMatch(/live|catching-up/);
    expect(Number(await page.textContent('#dead-total'))).toBeGreaterThan(0);
    expect(errors).toEqual([]);

    const output = join(RUNNER_DIR, 'test-output');
    await mkdir(output, { recursive: true });
    await page.screenshot({ path: join(output, 'demo.png'), fullPage: true });
  });

  it('stops cleanly on Ctrl-C with exit code 130', async () => {
    const result = await demo.stop('SIGINT', 15_000);
    expect(result.code, demo.output()).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: shutting down cleanly/);
    expect(result.stderr).toMatch(/stopped \(exit code 130\)/);
  });
});
