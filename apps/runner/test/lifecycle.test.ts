import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { Lifecycle, StartupStopped } from '../src/lifecycle.js';
import { Logger } from '../src/log.js';

const quiet = () => new Logger('info', { stdout: new PassThrough(), stderr: new PassThrough() });

describe('Lifecycle', () => {
  it('runs the shutdown steps in reverse order and resolves with the exit code', async () => {
    const lifecycle = new Lifecycle(quiet());
    const order: string[] = [];
    lifecycle.onStop('a', () => void order.push('a'));
    lifecycle.onStop('b', async () => {
      await new Promise((r) => setTimeout(r, 10));
      order.push('b');
    });
    lifecycle.onStop('c', () => void order.push('c'));
    expect(await lifecycle.shutdown(EXIT.sigterm)).toBe(EXIT.sigterm);
    expect(order).toEqual(['c', 'b', 'a']);
    expect(await lifecycle.wait()).toBe(EXIT.sigterm);
    expect(lifecycle.signal.aborted).toBe(true);
    expect(() => lifecycle.checkpoint()).toThrow(StartupStopped);
  });

  it('a failing step makes the exit code 1 but the other steps still run', async () => {
    const lifecycle = new Lifecycle(quiet());
    const ran: string[] = [];
    lifecycle.onStop('first', () => void ran.push('first'));
    lifecycle.onStop('broken', () => {
      throw new Error('disk gone');
    });
    expect(await lifecycle.shutdown(EXIT.ok)).toBe(EXIT.failure);
    expect(ran).toEqual(['first']);
  });

  it('a component failure shuts down with the code of its error', async () => {
    const lifecycle = new Lifecycle(quiet());
    lifecycle.watch('archiver', Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:9092'), { name: 'KafkaJSConnectionError' })));
    expect(await lifecycle.wait()).toBe(EXIT.brokerUnreachable);
  });

  it('ignores a repeated signal within a second, exits at once on one after that', async () => {
    const lifecycle = new Lifecycle(quiet());
    let release!: () => void;
    lifecycle.onStop('slow', () => new Promise<void>((resolve) => (release = resolve)));
    const exits: number[] = [];
    lifecycle.onSignal('SIGINT', EXIT.sigint, (code) => exits.push(code));
    lifecycle.onSignal('SIGINT', EXIT.sigint, (code) => exits.push(code));
    expect(exits).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_050));
    lifecycle.onSignal('SIGINT', EXIT.sigint, (code) => exits.push(code));
    expect(exits).toEqual([EXIT.sigint]);
    release();
    expect(await lifecycle.wait()).toBe(EXIT.sigint);
  });

  it('runUntilStopped: a failing startup shuts down what it started and rethrows', async () => {
    const lifecycle = new Lifecycle(quiet());
    const stopped: string[] = [];
    const failure = lifecycle.runUntilStopped(async () => {
      lifecycle.onStop('dataset', () => void stopped.push('dataset'));
      throw new Error('no disk');
    });
    await expect(failure).rejects.toThrow('no disk');
    expect(stopped).toEqual(['dataset']);
  });

  it('runUntilStopped: a startup stopped by a signal resolves with the signal’s code, not the error', async () => {
    const lifecycle = new Lifecycle(quiet());
    const code = lifecycle.runUntilStopped(async () => {
      lifecycle.onSignal('SIGTERM', EXIT.sigterm, () => undefined);
      lifecycle.checkpoint();
    });
    expect(await code).toBe(EXIT.sigterm);
  });

  it('runUntilStopped runs until stopped; runToCompletion shuts down when the work is done', async () => {
    const service = new Lifecycle(quiet());
    let running = true;
    const code = service.runUntilStopped(async () => service.onStop('server', () => void (running = false)));
    await new Promise((r) => setTimeout(r, 10));
    expect(running).toBe(true);
    void service.shutdown(EXIT.sigint);
    expect(await code).toBe(EXIT.sigint);
    expect(running).toBe(false);

    const finite = new Lifecycle(quiet());
    const steps: string[] = [];
    const done = finite.runToCompletion(async () => {
      finite.onStop('dataset', () => void steps.push('closed'));
      steps.push('worked');
    });
    expect(await done).toBe(EXIT.ok);
    expect(steps).toEqual(['worked', 'closed']);
  });
});
