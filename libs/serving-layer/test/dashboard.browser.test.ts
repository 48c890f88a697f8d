/**
 * The dashboard in real headless Chromium (Debian's, through playwright-core):
 * it loads from the server alone, draws a chart per view with data, shows the
 * status panel, and a speed update arrives live over SSE. Saves a screenshot to
 * test-output/dashboard.png.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServingLayer, startServingServer, type RunningServingServer, type ServingLayer } from '../src/index.js';
import { demo } from './demo-data.js';

// The page's globals, as the functions below see them when they run in the browser.
declare const window: any;
declare const document: { getElementById(id: string): { textContent: string | null } | null; querySelector(selector: string): { textContent: string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
// Data up to a minute ago, so the page looks as it would on a running system.
const END = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

const data = demo({ days: 14, sensors: 8, everyMs: 2 * 60_000, partitions: 2, speedHours: 3, end: END });
const horizonText = new Date(data.batch.latest()!.horizon.maxEventTime!).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
let serving: ServingLayer;
let server: RunningServingServer;
let context: BrowserContext;
let page: Page;
let profile: string;
const requests: string[] = [];

beforeAll(async () => {
  serving = createServingLayer({ batch: data.batch, speed: data.speed });
  server = await startServingServer(serving, { port: 0, sseFlushMs: 100, title: 'lambdaline demo' });
  profile = await mkdtemp(join(tmpdir(), 'lambdaline-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1100 },
    deviceScaleFactor: 1,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (request) => requests.push(request.url()));
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await server?.close();
  serving?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe('dashboard in headless Chromium', () => {
  it('loads, draws a chart per view with data, and shows the status panel', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url + '/');
    await page.waitForFunction(() => {
      const d = window.lambdalineDashboard;
      return d && d.state.views.sensor_5min?.plot && d.state.views.daily_by_category?.plot;
    });
    expect(await page.locator('.view .uplot canvas').count()).toBeGreaterThanOrEqual(2);
    const counts = await page.evaluate(() => {
      const v = window.lambdalineDashboard.state.views;
      return { daily: v.daily_by_category.rows.size, five: v.sensor_5min.rows.size, series: v.sensor_5min.series, dailySeries: v.daily_by_category.series };
    });
    expect(counts.daily).toBeGreaterThan(0);
    expect(counts.five).toBeGreaterThan(100);
    expect(counts.series).toHaveLength(6);
    expect(counts.dailySeries).toEqual(['A', 'B', 'C', 'D']);
    await page.waitForFunction(() => document.getElementById('batch-version')?.textContent === 'v1');
    await page.waitForFunction(() => document.getElementById('dead-total')?.textContent === '23');
    expect(await page.textContent('#speed-lag')).toBe('6 records');
    expect(await page.textContent('#pair-mode')).toBe('live');
    expect(await page.textContent('#batch-horizon')).toBe(horizonText);
    await page.waitForFunction(() => /^newest event \d+ (s|min) old$/.test(document.getElementById('serving-freshness')?.textContent ?? ''));
    expect(errors).toEqual([]);
  });

  it('shows a speed update arriving live', async () => {
    const before = await page.evaluate(() => window.lambdalineDashboard.state.views.sensor_5min.updates);
    // The speed layer folds a spike from sensor_3 in the newest window.
    const time = END - 60_000;
    data.log.append(0, time, 3, 140);
    data.flush(0);
    const windowStart = new Date(Math.floor(time / 300_000) * 300_000).toISOString();
    await page.waitForFunction(
      ([w, b]) => {
        const d = window.lambdalineDashboard;
        return d.state.views.sensor_5min.updates > (b as number) && d.value('sensor_5min', w, ['sensor_3'], 'max_value1') === 140;
      },
      [windowStart, before] as const,
    );
    // The latest-window table shows the new maximum, in the row of sensor_3.
    await page.waitForFunction(() => document.querySelector('#view-sensor_5min tr[data-series="sensor_3"] td[data-measure="max_value1"]')?.textContent === '140');
    expect(await page.textContent('#live-text')).toMatch(/^live · \d+ updates$/);
    // Everything came from this server.
    expect(requests.filter((url) => !url.startsWith(server.url) && !url.startsWith('data:'))).toEqual([]);
    // The status panel counts the page's own two live streams.
    await page.waitForFunction(() => document.getElementById('serving-sse')?.textContent === '2');
    await mkdir(OUTPUT, { recursive: true });
    await page.waitForTimeout(300); // let the row flash settle a little for the picture
    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
  });
});
