/**
 * The HTTP API (fastify 5): views, queries, Server-Sent Events, status,
 * Prometheus metrics, health, and the dashboard. Every query parameter is
 * validated (query.ts); errors are JSON `{ error, parameter }`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdalineError, type FinalRow } from '@lambdaline/core';
import { fastify, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { UnknownViewError } from './errors.js';
import { MergedView, sortFinalRows } from './merged-view.js';
import { parseQueryParams, type RawParams } from './query.js';
import type { ServingLayer, ViewChange } from './serving.js';

export interface ServingServerOptions {
  /** fastify's logger option (default off). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Serve the dashboard at `/` (default true). */
  readonly dashboard?: boolean;
  /** SSE comment sent this often to keep proxies from closing idle streams (default 15000 ms). */
  readonly heartbeatMs?: number;
  /** SSE changes are coalesced per client and sent at most this often (default 250 ms). */
  readonly sseFlushMs?: number;
  /** An SSE client whose unsent data exceeds this is disconnected (it reconnects and gets a fresh snapshot). Default 8 MiB. */
  readonly sseMaxBufferBytes?: number;
  /** Title of the dashboard page. */
  readonly title?: string;
}

export interface StartServingServerOptions extends ServingServerOptions {
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

export interface RunningServingServer {
  readonly app: FastifyInstance;
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const DASHBOARD_DIR = join(here, '..', 'dashboard');

interface Asset {
  readonly type: string;
  readonly body: string;
}

function loadAssets(title: string): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const read = (path: string) => readFileSync(path, 'utf8');
  const assets = new Map<string, Asset>();
  const html = read(join(DASHBOARD_DIR, 'index.html')).replaceAll('{{title}}', escapeHtml(title));
  assets.set('/', { type: 'text/html; charset=utf-8', body: html });
  assets.set('/dashboard/dashboard.js', { type: 'text/javascript; charset=utf-8', body: read(join(DASHBOARD_DIR, 'dashboard.js')) });
  assets.set('/dashboard/dashboard.css', { type: 'text/css; charset=utf-8', body: read(join(DASHBOARD_DIR, 'dashboard.css')) });
  assets.set('/dashboard/uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: read(require.resolve('uplot/dist/uPlot.iife.min.js')) });
  assets.set('/dashboard/uPlot.min.css', { type: 'text/css; charset=utf-8', body: read(require.resolve('uplot/dist/uPlot.min.css')) });
  return assets;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The JSON error body: what went wrong and, when known, which parameter. */
function errorBody(error: unknown): { status: number; body: { error: string; parameter?: string } } {
  if (error instanceof UnknownViewError) return { status: 404, body: { error: error.message, parameter: 'name' } };
  if (error instanceof LambdalineError) {
    const body: { error: string; parameter?: string } = { error: error.message };
    if (error.field !== undefined) body.parameter = error.field;
    return { status: 400, body };
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, body: { error: (error as Error).message } };
  return { status: 500, body: { error: 'internal error' } };
}

/**
 * Builds the fastify app (not listening: call `listen`, or use `inject` in
 * tests). Closing the app ends open SSE streams; it does not close `serving`.
 */
export function createServingServer(serving: ServingLayer, options: ServingServerOptions = {}): FastifyInstance {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const flushMs = options.sseFlushMs ?? 250;
  const maxBuffer = options.sseMaxBufferBytes ?? 8 * 1024 * 1024;
  const app = fastify({ logger: options.logger ?? false, forceCloseConnections: true });
  const streams = new Set<() => void>();

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorBody(error);
    if (status === 500) request.log.error(error);
    void reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}; see /api/views, /api/status, /metrics, /health` });
  });
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  const viewAndQuery = (params: unknown, query: unknown) => {
    const name = (params as { name: string }).name;
    try {
      const spec = serving.view(name);
      return { spec, query: parseQueryParams(spec, serving.schema, (query ?? {}) as RawParams) };
    } catch (error) {
      serving.metrics.queryError(error instanceof UnknownViewError ? 'unknown_view' : 'bad_parameter');
      throw error;
    }
  };

  app.get('/api/views', async () => ({ views: serving.views() }));

  app.get('/api/views/:name', async (request, reply) => {
    const { spec, query } = viewAndQuery(request.params, request.query);
    return reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').send(serving.runQueryJson(spec, query));
  });

  app.get('/api/views/:name/stream', (request, reply: FastifyReply) => {
    const { spec, query } = viewAndQuery(request.params, request.query);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let id = 0;
    let open = true;
    const dims = spec.dimensions;
    const identity = (row: FinalRow) => JSON.stringify([row.window_start, ...dims.map((d) => row[d] ?? null)]);
    const pendingRows = new Map<string, FinalRow>();
    const pendingRemoved = new Map<string, FinalRow>();
    let last: ViewChange | null = null;

    const write = (text: string) => {
      if (!open) return;
      res.write(text);
      if (res.writableLength > maxBuffer) end();
    };
    const send = (event: string, data: unknown) => write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

    const subscription = serving.changes(spec.name).subscribe({
      next(change) {
        for (const row of change.removed) {
          if (!MergedView.matches(spec, query, row)) continue;
          const key = identity(row);
          pendingRows.delete(key);
          pendingRemoved.set(key, row);
        }
        for (const row of change.rows) {
          if (!MergedView.matches(spec, query, row)) continue;
          const key = identity(row);
          pendingRemoved.delete(key);
          pendingRows.set(key, row);
        }
        last = change;
      },
      complete: () => end(),
    });
    const flush = setInterval(() => {
      if (!last) return;
      const change = last;
      last = null;
      const rows = sortFinalRows(dims, [...pendingRows.values()]);
      const removed = [...pendingRemoved.values()];
      pendingRows.clear();
      pendingRemoved.clear();
      send('change', {
        view: spec.name,
        horizon: change.horizon,
        freshness: serving.freshness(),
        consistency: change.consistency,
        rows,
        removed,
      });
    }, flushMs);
    const heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);

    function end() {
      if (!open) return;
      open = false;
      clearInterval(flush);
      clearInterval(heartbeat);
      subscription.unsubscribe();
      streams.delete(end);
      serving.sseClients(-1);
      if (!res.writableEnded) res.end();
    }
    streams.add(end);
    serving.sseClients(1);
    res.on('close', end);
    res.on('error', end);

    write(`retry: 3000\n\n`);
    send('snapshot', serving.runQuery(spec, query));
  });

  app.get('/api/status', async () => serving.status());

  app.get('/metrics', async (_request, reply) => {
    return reply.type(serving.metrics.contentType).header('cache-control', 'no-store').send(await serving.metrics.text());
  });

  app.get('/health', async () => {
    const status = serving.status();
    return {
      status: 'ok',
      snapshotVersion: status.batch.snapshotVersion,
      mode: status.serving.mode,
      speedPartitions: status.speed.partitions.length,
      sourceErrors: status.serving.sourceErrors.length,
    };
  });

  if (options.dashboard ?? true) {
    const assets = loadAssets(options.title ?? 'lambdaline');
    const serve = (path: string) => async (_request: unknown, reply: FastifyReply) => {
      const asset = assets.get(path)!;
      return reply
        .type(asset.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'")
        .send(asset.body);
    };
    for (const path of assets.keys()) app.get(path, serve(path));
  }

  return app;
}

/** Creates the app and listens; `close()` stops it (not the serving layer). */
export async function startServingServer(serving: ServingLayer, options: StartServingServerOptions = {}): Promise<RunningServingServer> {
  const app = createServingServer(serving, options);
  await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { app, url, close: () => app.close() };
}
