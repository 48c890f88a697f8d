/**
 * Batch-layer benchmark: the layer's batch views against the equivalent
 * hand-written DuckDB SQL over the same master-dataset files, side by side in
 * one run. Each measurement runs in its own child process so its peak RSS is
 * its own.
 *
 *   npx tsx bench/batch-bench.ts --events 10000000 [--days 30] [--reps 3] [--work DIR] [--threads N] [--prepare]
 *
 * Steps: (1) generate seeded history with @lambdaline/generators (Parquet by
 * day), (2) ingest it through the layer (every record validated) into a master
 * dataset, (3) alternate raw SQL and `runBatch({ mode: 'full' })` `reps`
 * times, (4) check both produced the same numbers, (5) print a table.
 * Generated history and the ingested dataset are kept in --work and reused by
 * later runs with the same --events/--days.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeHistory } from '@lambdaline/generators';
import { openMasterDataset } from '../src/index.js';

interface Args {
  events: number;
  days: number;
  reps: number;
  work: string;
  threads: number | undefined;
  child?: 'ingest' | 'layer' | 'raw' | 'raw-epoch';
  /** Stop after generating and ingesting (to prepare a large run ahead of time). */
  prepare: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? undefined : argv[i + 1];
  };
  const events = Number((get('events') ?? '1000000').replace(/_/g, ''));
  const days = Number(get('days') ?? '30');
  const reps = Number(get('reps') ?? '3');
  const threads = get('threads') === undefined ? undefined : Number(get('threads'));
  if (!Number.isInteger(events) || events <= 0) throw new Error('--events: a positive integer');
  return { events, days, reps, threads, work: get('work') ?? join(tmpdir(), 'lambdaline-batch-bench'), child: get('child') as Args['child'], prepare: argv.includes('--prepare') };
}

const args = parseArgs(process.argv.slice(2));
const tag = `${args.events}-${args.days}d`;
const historyDir = join(args.work, `history-${tag}`);
const datasetDir = join(args.work, `dataset-${tag}`);
const rawOut = join(args.work, `raw-out-${tag}`);
const rawEpochOut = join(args.work, `raw-epoch-out-${tag}`);
const duckdbOptions = args.threads === undefined ? {} : { threads: args.threads };
const fmt = (n: number) => n.toLocaleString('en-US');
const log = (line: string) => process.stderr.write(`${line}\n`);

function progressPrinter(label: string): (done: number, total: number | null, unit: string) => void {
  let last = 0;
  return (done, total, unit) => {
    const now = Date.now();
    if (now - last < 2_000 && done !== total) return;
    last = now;
    const pct = total ? ` (${((100 * done) / total).toFixed(1)}%)` : '';
    log(`  ${label}: ${fmt(Math.round(done))}${total ? ` / ${fmt(total)}` : ''} ${unit}${pct}`);
  };
}

interface Measured {
  wallMs: number;
  /** CPU time of the process (all threads) during the measured section: steadier than wall time on a shared machine. */
  cpuMs?: number;
  maxRssMb: number;
  extra?: Record<string, number>;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function finish(result: Omit<Measured, 'maxRssMb'> & { maxRssMb?: number }): void {
  process.stdout.write(`RESULT ${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, ...result })}\n`);
}

/**
 * The hand-written SQL a data engineer would write for the two default views
 * (the original Spark jobs): `date_trunc` / `time_bucket` on the TIMESTAMPTZ
 * column, final averages.
 */
export function rawSql(files: string, out: string): string[] {
  return [
    `COPY (
       SELECT date_trunc('day', ts) AS day, category,
              avg(value1) AS avg_value1, avg(value2) AS avg_value2, count(*) AS record_count
       FROM read_parquet('${files}') GROUP BY ALL ORDER BY ALL
     ) TO '${join(out, 'daily_by_category.ndjson')}' (FORMAT json)`,
    `COPY (
       SELECT time_bucket(INTERVAL '5 minutes', ts) AS window_start, sensor_id,
              avg(value1) AS avg_value1, min(value1) AS min_value1, max(value1) AS max_value1, count(*) AS message_count
       FROM read_parquet('${files}') GROUP BY ALL ORDER BY ALL
     ) TO '${join(out, 'sensor_5min.ndjson')}' (FORMAT json)`,
  ];
}

/**
 * The same, hand-written with the layer's time arithmetic (epoch ms, which
 * avoids the time-zone-aware TIMESTAMPTZ functions): the fastest plain SQL.
 */
export function rawEpochSql(files: string, out: string): string[] {
  return [
    `COPY (
       SELECT (floor(epoch_ms(ts) / 86400000) * 86400000)::BIGINT AS day, category,
              avg(value1) AS avg_value1, avg(value2) AS avg_value2, count(*) AS record_count
       FROM read_parquet('${files}') GROUP BY ALL ORDER BY ALL
     ) TO '${join(out, 'daily_by_category.ndjson')}' (FORMAT json)`,
    `COPY (
       SELECT (floor(epoch_ms(ts) / 300000) * 300000)::BIGINT AS window_start, sensor_id,
              avg(value1) AS avg_value1, min(value1) AS min_value1, max(value1) AS max_value1, count(*) AS message_count
       FROM read_parquet('${files}') GROUP BY ALL ORDER BY ALL
     ) TO '${join(out, 'sensor_5min.ndjson')}' (FORMAT json)`,
  ];
}

async function childIngest(): Promise<void> {
  const files = readdirSync(historyDir)
    .filter((d) => d.startsWith('day='))
    .flatMap((d) => readdirSync(join(historyDir, d)).filter((f) => f.endsWith('.parquet')).map((f) => join(historyDir, d, f)))
    .sort();
  const ds = await openMasterDataset({ dir: datasetDir, duckdb: duckdbOptions });
  const started = performance.now();
  const print = progressPrinter('ingest');
  const perFile = new Map<string, number>();
  const report = await ds.ingestFiles(files, {
    onProgress: (p) => {
      if (p.unit !== 'rows') return;
      perFile.set(p.step, p.done);
      let sum = 0;
      for (const n of perFile.values()) sum += n;
      print(sum, args.events, 'events');
    },
  });
  if (report.quarantined > 0 || report.failed > 0) throw new Error(`unexpected rejects: ${JSON.stringify(report.byCode)}, ${report.failed} failed`);
  const doneFiles = report.files.length;
  const rows = report.accepted;
  const wallMs = performance.now() - started;
  log(`  ingest: ${doneFiles} files, ${fmt(rows)} events`);
  await ds.close();
  finish({ wallMs, extra: { events: rows } });
}

async function childLayer(): Promise<void> {
  const ds = await openMasterDataset({ dir: datasetDir, duckdb: duckdbOptions }); // the defaults users get
  const print = progressPrinter('layer runBatch');
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const snapshot = await ds.runBatch({
    mode: 'full',
    force: true,
    onProgress: (p) => {
      if (p.unit === 'percent') print(p.done, 100, `% of ${p.step}`);
    },
  });
  const wallMs = performance.now() - started;
  const cpuMs = cpuSince(cpu0);
  const maxRssMb = process.resourceUsage().maxRSS / 1024; // before the rows are read into JS
  const loadStarted = performance.now();
  let rows = 0;
  for (const name of Object.keys(snapshot.views)) rows += snapshot.views[name]!.length;
  const loadMs = performance.now() - loadStarted;
  await ds.close();
  finish({ wallMs, cpuMs, maxRssMb, extra: { viewRows: rows, loadRowsMs: loadMs, version: snapshot.version, rssAfterLoadMb: process.resourceUsage().maxRSS / 1024 } });
}

async function childRaw(epoch: boolean): Promise<void> {
  const out = epoch ? rawEpochOut : rawOut;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', args.threads === undefined ? {} : { threads: String(args.threads) });
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (const sql of (epoch ? rawEpochSql : rawSql)(join(datasetDir, 'data', '*', '*.parquet'), out)) await connection.run(sql);
  const wallMs = performance.now() - started;
  const cpuMs = cpuSince(cpu0);
  connection.closeSync();
  instance.closeSync();
  finish({ wallMs, cpuMs });
}

function runChild(mode: 'ingest' | 'layer' | 'raw' | 'raw-epoch'): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2), '--child', mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${mode} child failed (exit ${code}): ${out}`));
      else resolve(JSON.parse(line.slice(7)) as Measured);
    });
  });
}

/** Both sides must have produced the same numbers. Returns the number of mismatching rows per view. */
type Check = Record<"daily_by_category" | "sensor_5min", { rows: number; mismatches: number }>;
async function compareResults(rawDir: string, epoch: boolean): Promise<Check> {
  const current = readdirSync(join(datasetDir, 'snapshots')).filter((n) => /^v\d+$/.test(n)).sort().pop()!;
  const layer = join(datasetDir, 'snapshots', current);
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const one = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS()[0] as Record<string, bigint>;
  const daily = await one(`
    WITH l AS (SELECT w, d->>0 AS category, p FROM read_json('${layer}/daily_by_category.ndjson', format='newline_delimited', columns={w:'BIGINT', d:'JSON', p:'STRUCT(avg_value1 STRUCT(sum DOUBLE, count BIGINT), avg_value2 STRUCT(sum DOUBLE, count BIGINT), record_count STRUCT(count BIGINT))'})),
         r AS (SELECT ${epoch ? 'day' : 'epoch_ms(day::TIMESTAMP)'} AS w, category, avg_value1, avg_value2, record_count FROM read_json('${rawDir}/daily_by_category.ndjson'))
    SELECT count(*) AS rows, count(*) FILTER (WHERE r.w IS NULL OR l.w IS NULL OR l.p.record_count.count <> r.record_count
      OR abs(l.p.avg_value1.sum / l.p.avg_value1.count - r.avg_value1) > 1e-9 * greatest(1, abs(r.avg_value1))
      OR abs(l.p.avg_value2.sum / l.p.avg_value2.count - r.avg_value2) > 1e-9 * greatest(1, abs(r.avg_value2))) AS mismatches
    FROM l FULL JOIN r ON l.w = r.w AND l.category = r.category`);
  const fiveMin = await one(`
    WITH l AS (SELECT w, d->>0 AS sensor_id, p FROM read_json('${layer}/sensor_5min.ndjson', format='newline_delimited', columns={w:'BIGINT', d:'JSON', p:'STRUCT(avg_value1 STRUCT(sum DOUBLE, count BIGINT), min_value1 STRUCT(min DOUBLE), max_value1 STRUCT(max DOUBLE), message_count STRUCT(count BIGINT))'})),
         r AS (SELECT ${epoch ? 'window_start' : 'epoch_ms(window_start::TIMESTAMP)'} AS w, sensor_id, avg_value1, min_value1, max_value1, message_count FROM read_json('${rawDir}/sensor_5min.ndjson'))
    SELECT count(*) AS rows, count(*) FILTER (WHERE r.w IS NULL OR l.w IS NULL OR l.p.message_count.count <> r.message_count
      OR l.p.min_value1.min <> r.min_value1 OR l.p.max_value1.max <> r.max_value1
      OR abs(l.p.avg_value1.sum / l.p.avg_value1.count - r.avg_value1) > 1e-9 * greatest(1, abs(r.avg_value1))) AS mismatches
    FROM l FULL JOIN r ON l.w = r.w AND l.sensor_id = r.sensor_id`);
  c.closeSync();
  instance.closeSync();
  return {
    daily_by_category: { rows: Number(daily.rows), mismatches: Number(daily.mismatches) },
    sensor_5min: { rows: Number(fiveMin.rows), mismatches: Number(fiveMin.mismatches) },
  };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  if (args.child === 'ingest') return childIngest();
  if (args.child === 'layer') return childLayer();
  if (args.child === 'raw') return childRaw(false);
  if (args.child === 'raw-epoch') return childRaw(true);

  mkdirSync(args.work, { recursive: true });
  log(`batch-layer bench: ${fmt(args.events)} events over ${args.days} days, ${args.reps} reps, work dir ${args.work}`);
  if (!existsSync(join(historyDir, '.complete'))) {
    log('1/4 generating history (Parquet by day, @lambdaline/generators)');
    rmSync(historyDir, { recursive: true, force: true });
    const print = progressPrinter('generate');
    const result = await writeHistory({ dir: historyDir, count: args.events, days: args.days, seed: 'lambdaline-bench', onProgress: (p) => print(p.done, p.total, 'events') });
    writeFileSync(join(historyDir, '.complete'), JSON.stringify({ files: result.files.length, durationMs: result.durationMs }));
    log(`  generated ${result.files.length} files in ${(result.durationMs / 1000).toFixed(1)} s`);
  } else log('1/4 history: reusing generated files');

  let ingest: Measured | null = null;
  if (!existsSync(join(datasetDir, '.complete'))) {
    log('2/4 ingesting through the layer (every record validated by core, written as the master dataset)');
    rmSync(datasetDir, { recursive: true, force: true });
    ingest = await runChild('ingest');
    writeFileSync(join(datasetDir, '.complete'), JSON.stringify(ingest));
  } else {
    log('2/4 master dataset: reusing the ingested dataset');
    ingest = JSON.parse(readFileSync(join(datasetDir, '.complete'), 'utf8')) as Measured;
  }
  if (ingest) log(`  ingest: ${(ingest.wallMs / 1000).toFixed(1)} s, ${fmt(Math.round(args.events / (ingest.wallMs / 1000)))} events/s, peak RSS ${ingest.maxRssMb.toFixed(0)} MB`);
  if (args.prepare) return;

  const loadBefore = loadavg()[0]!;
  log(`3/4 measuring: raw DuckDB SQL (idiomatic and epoch-arithmetic) and layer runBatch({ mode: 'full' }), rotating order, ${args.reps} reps`);
  const sides = ['raw', 'raw-epoch', 'layer'] as const;
  const measured: Record<(typeof sides)[number], Measured[]> = { raw: [], 'raw-epoch': [], layer: [] };
  for (let rep = 0; rep < args.reps; rep++) {
    for (let k = 0; k < sides.length; k++) {
      const mode = sides[(k + rep) % sides.length]!;
      const m = await runChild(mode);
      measured[mode].push(m);
      log(`  rep ${rep + 1} ${mode.padEnd(9)}: ${(m.wallMs / 1000).toFixed(2)} s wall, ${((m.cpuMs ?? 0) / 1000).toFixed(2)} s CPU, peak RSS ${m.maxRssMb.toFixed(0)} MB`);
    }
  }
  const raw = measured.raw;
  const rawEpoch = measured['raw-epoch'];
  const layer = measured.layer;
  log('4/4 comparing results');
  const check = await compareResults(rawOut, false);
  const checkEpoch = await compareResults(rawEpochOut, true);

  const best = (xs: Measured[]) => Math.min(...xs.map((m) => m.wallMs));
  const med = (xs: Measured[]) => median(xs.map((m) => m.wallMs));
  const rss = (xs: Measured[]) => Math.max(...xs.map((m) => m.maxRssMb));
  const loadMs = median(layer.map((m) => m.extra?.loadRowsMs ?? 0));
  const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const cpu = (xs: Measured[]) => median(xs.map((m) => m.cpuMs ?? 0));
  const row = (name: string, xs: Measured[]) =>
    `| ${name} | ${secs(best(xs))} / ${secs(med(xs))} | ${fmt(Math.round(args.events / (best(xs) / 1000)))} | ${secs(cpu(xs))} | ${rss(xs).toFixed(0)} MB |`;
  const ratio = (f: (xs: Measured[]) => number, other: Measured[]) => (f(layer) / f(other)).toFixed(2);
  const mismatches = check.daily_by_category.mismatches + check.sensor_5min.mismatches + checkEpoch.daily_by_category.mismatches + checkEpoch.sensor_5min.mismatches;
  const lines = [
    `### ${fmt(args.events)} events, ${args.days} days (${check.daily_by_category.rows} + ${fmt(check.sensor_5min.rows)} view rows), ${args.reps} reps`,
    '',
    '| | wall time (best / median) | events/s (best) | CPU time (median) | peak RSS |',
    '|---|---|---|---|---|',
    row('raw DuckDB SQL, idiomatic (`date_trunc` / `time_bucket`)', raw),
    row('raw DuckDB SQL, epoch-ms arithmetic', rawEpoch),
    row('batch layer `runBatch({ mode: "full" })`', layer),
    '',
    `Layer / raw idiomatic: **${ratio(best, raw)}x** best, ${ratio(med, raw)}x median. ` +
      `Layer / raw epoch-ms: **${ratio(best, rawEpoch)}x** best, ${ratio(med, rawEpoch)}x median. ` +
      `CPU time layer / raw: ${ratio(cpu, raw)}x idiomatic, ${ratio(cpu, rawEpoch)}x epoch-ms. ` +
      `Peak RSS ${(rss(layer) / rss(raw)).toFixed(2)}x. Results compared row by row with both: ${mismatches} mismatches.`,
    `Reading the published rows into JS afterwards (\`latest().views\`, lazy by default): ${(loadMs / 1000).toFixed(2)} s.`,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; 1-minute load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after measuring. The machine is shared, so runs alternate and the best run of each side is the least disturbed one.`,
    ...(ingest ? [`Ingest of the generated Parquet history through the layer (every record validated, written as the master dataset): ${(ingest.wallMs / 1000).toFixed(1)} s, ${fmt(Math.round(args.events / (ingest.wallMs / 1000)))} events/s, peak RSS ${ingest.maxRssMb.toFixed(0)} MB.`] : []),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `batch-${tag}.json`), `${JSON.stringify({ events: args.events, days: args.days, reps: args.reps, raw, rawEpoch, layer, ingest, check, checkEpoch, at: new Date().toISOString() }, null, 1)}\n`);
  writeFileSync(join(resultsDir, `batch-${tag}.md`), `${lines.join('\n')}\n`);
}

await main();
