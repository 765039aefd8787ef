/**
 * An origin that never answers, with a hard timeout: callers past the timeout start a new run
 * instead of joining the hung one, and nothing is kept per call or per key. Jest's fake timers and
 * an injected clock: nothing sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CacheOriginTimeoutError, cached, createCache, MemoryStore } from '../lib/index.js';
import { MAX_LATE_RUNS, type FlightRun } from '../lib/flight.js';
import { deferred, type Deferred } from './helpers/deferred.js';
import { fakeClock } from './helpers/fake-clock.js';

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
});
afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

function setup() {
  const clock = fakeClock();
  const warned: unknown[] = [];
  const logger = { warn: (fields: Record<string, unknown>) => void warned.push(fields.kind), error() {} };
  const cache = createCache({ store: new MemoryStore({ clock }), clock, logger });
  return { clock, cache, warned };
}

/**
 * An origin that never settles. Each run returns a thenable that keeps every callback given to it,
 * as a socket waiting for an answer would: what is attached to it stays reachable for ever.
 */
function hungOrigin() {
  const kept: unknown[] = [];
  let runs = 0;
  const origin = (_id: number): PromiseLike<string> => {
    runs++;
    return {
      then(onValue, onError) {
        kept.push(onValue, onError);
        return new Promise(() => {}) as never;
      },
    };
  };
  return { origin, kept, runs: () => runs };
}

describe('an origin that never answers, behind a hard timeout', () => {
  it('starts a new run once a hard timeout has passed, and keeps nothing per call (10,000 overlapping calls)', async () => {
    const { cache } = setup();
    const hung = hungOrigin();
    const f = cached(hung.origin, { cache, name: 'f', timeout: { hard: 100 } });
    const key = f.keyFor(1);
    const runs = new Set<FlightRun>();
    // Reactions attached to each promise (awaits inside cachette are counted through the run's
    // dispatcher: they are not calls of `then`).
    const reactions = new Map<unknown, number>();
    const then = Promise.prototype.then;
    jest.spyOn(Promise.prototype, 'then').mockImplementation(function (this: Promise<unknown>, ...args: Parameters<typeof then>) {
      reactions.set(this, (reactions.get(this) ?? 0) + 1);
      return then.apply(this, args) as never;
    });
    const outcomes: Array<Promise<unknown>> = [];
    for (let ms = 0; ms < 1000; ms++) {
      for (let i = 0; i < 10; i++) outcomes.push(f(1).catch((error: unknown) => error));
      const run = cache.flights.runFor(key);
      if (run !== undefined) runs.add(run);
      await jest.advanceTimersByTimeAsync(1);
    }
    await jest.advanceTimersByTimeAsync(100);
    const errors = await Promise.all(outcomes);
    expect(errors.every((error) => error instanceof CacheOriginTimeoutError)).toBe(true);
    expect(f.stats).toMatchObject({ misses: 10_000, timeouts: 10_000 });
    // One run per 100 ms (each retired by its first caller's timeout), not one for all 10,000 calls.
    expect(hung.runs()).toBe(10);
    expect(runs.size).toBe(10);
    // What the origin holds on to: one reaction per run, none per caller.
    expect(hung.kept).toHaveLength(2 * 10);
    // Per run: the flight table's cleanup and the callers' one dispatcher, whatever the number of callers.
    expect([...runs].map((run) => reactions.get(run.promise))).toEqual(Array.from({ length: 10 }, () => 2));
    // Every caller detached from its run when it timed out.
    expect([...runs].map((run) => [run.attached, run.waiters])).toEqual(Array.from({ length: 10 }, () => [0, 0]));
    expect(cache.flights.size).toBe(0);
    expect(cache.flights.retired).toBe(1); // the newest run of the key may still write a late answer
  });

  it('never lets an older run that answers late overwrite a newer value', async () => {
    const { cache } = setup();
    const runs: Array<Deferred<string>> = [];
    const f = cached(
      (_id: number) => {
        const run = deferred<string>();
        runs.push(run);
        return run.promise;
      },
      { cache, name: 'f', ttl: '1h', timeout: 100 },
    );
    const first = expect(f(1)).rejects.toBeInstanceOf(CacheOriginTimeoutError);
    await jest.advanceTimersByTimeAsync(100);
    await first;
    const second = f(1);
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(2);
    runs[1]!.resolve('new');
    expect(await second).toBe('new');
    runs[0]!.resolve('old');
    await jest.advanceTimersByTimeAsync(0);
    expect(await f(1)).toBe('new');
    expect(f.stats).toMatchObject({ hits: 1, misses: 2, timeouts: 1 });
  });

  it('forgets hung keys once their timeout has passed, keeping at most MAX_LATE_RUNS late writers', async () => {
    const { cache } = setup();
    const hung = hungOrigin();
    const f = cached(hung.origin, { cache, name: 'f', timeout: 100 });
    const outcomes: Array<Promise<unknown>> = [];
    for (let id = 0; id < 2 * MAX_LATE_RUNS; id++) outcomes.push(f(id).catch((error: unknown) => error));
    await jest.advanceTimersByTimeAsync(0);
    expect(cache.flights.size).toBe(2 * MAX_LATE_RUNS);
    await jest.advanceTimersByTimeAsync(100);
    await Promise.all(outcomes);
    expect(cache.flights.size).toBe(0);
    expect(cache.flights.retired).toBe(MAX_LATE_RUNS);
  });

  it('retires a background refresh that passes the hard timeout, reports it, and refreshes again later', async () => {
    const { clock, cache, warned } = setup();
    let runs = 0;
    const f = cached(
      async () => {
        runs++;
        if (runs > 1) await new Promise(() => {}); // every refresh hangs
        return 'v';
      },
      { cache, name: 'f', ttl: 1000, staleWhileRevalidate: '1h', timeout: 100 },
    );
    expect(await f()).toBe('v');
    clock.advance(2000);
    expect(await f()).toBe('v'); // stale; one refresh starts and hangs
    expect(await f()).toBe('v'); // stale; the hung refresh is still current: no second one
    expect(runs).toBe(2);
    await jest.advanceTimersByTimeAsync(100);
    expect(f.stats.errors).toBe(1);
    expect(warned).toEqual(['refresh']);
    expect(await f()).toBe('v');
    expect(runs).toBe(3);
    expect(f.stats.stale).toBe(3);
  });
});
