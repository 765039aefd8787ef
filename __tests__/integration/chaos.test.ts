/**
 * Chaos suite: a cached function over a real redis-server, 64 calls kept in flight, while the server
 * is killed (SIGKILL), frozen (SIGSTOP / SIGCONT), restarted on the same port, or full (`maxmemory`
 * with `noeviction`). The origin is deterministic (`valueFor(id)`), so every answer is checked.
 *
 * For each fault: no caller promise rejects, no value is wrong, no rejection goes unhandled, and
 * once Redis is back a call is a hit again, its key present in Redis. Tests wait with bounded
 * polling on counts and states, never on time; each appends a one-line summary of its figures to
 * `.scratch/chaos-figures.txt` (a green run prints nothing; the file is git-ignored).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, type Duration, type Logger } from '../../lib/index.js';
import { Load, valueFor, type Tally } from '../helpers/chaos-load.js';
import { startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

/** Keys 0..WARM-1 are stored before the fault (hits); other ids are misses the first time. */
const WARM = 32;
const COLD = 100_000;
/** The id the recovery check calls; no load call uses it. */
const PROBE = 1_000_000;
/** Stored before a restart and never called after it. */
const UNTOUCHED = PROBE + 1;
const IN_FLIGHT = 64;
/** Bounded polls: 1,200 × 25 ms between checks (30 s of polling at most). */
const POLLS = 1_200;
const MB = 1024 * 1024;

let redis: TestRedis;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startRedis();
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await redis.stop();
});
beforeEach(async () => {
  unhandled.length = 0;
  await redis.admin.flushAll();
});
afterEach(async () => {
  // A failed test may leave the server stopped, frozen or full, and a load or a cache open.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  if (!redis.server.getInstanceInfo()) await redis.start();
  redis.thaw();
  await redis.admin.configSet('maxmemory', '0');
});

/** A logger counting failures by kind and error class (`read CacheTimeoutError`), and OOM write refusals. */
function countingLogger(): Logger & { kinds: Record<string, number>; byError: Record<string, number>; oomWrites: number } {
  const kinds: Record<string, number> = {};
  const byError: Record<string, number> = {};
  const logger = {
    kinds,
    byError,
    oomWrites: 0,
    warn(fields: Record<string, unknown>) {
      const kind = String(fields.kind);
      const err = fields.err as (Error & { cause?: unknown }) | undefined;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const key = `${kind} ${err?.name ?? 'unknown'}`;
      byError[key] = (byError[key] ?? 0) + 1;
      if (kind === 'write' && err?.cause instanceof Error && err.cause.message.startsWith('OOM')) logger.oomWrites++;
    },
    error() {},
  };
  return logger;
}

/** `{"read CacheTimeoutError": 3}` as `read CacheTimeoutError ×3`. */
function breakdown(byError: Record<string, number>): string {
  return Object.entries(byError)
    .map(([key, count]) => `${key} ×${count}`)
    .join(', ');
}

/** A cache over the test server, the cached deterministic origin, and a count of its runs. */
function subject(opTimeout: Duration) {
  const logger = countingLogger();
  const cache = createCache({ store: { type: 'redis', url: redis.url, opTimeout }, logger, namespace: 'chaos' });
  const runs = { count: 0 };
  const getItem = cached(
    async (id: number) => {
      runs.count++;
      await new Promise((resolve) => setImmediate(resolve)); // an origin that does I/O: at least one turn
      return valueFor(id);
    },
    { cache, name: 'getItem', ttl: '1h' },
  );
  cleanups.push(() => cache.close());
  return { cache, getItem, runs, logger };
}
type CachedItem = ReturnType<typeof subject>['getItem'];

/** Calls in turn: hit, miss, hit, miss with the same id (two concurrent misses of one key coalesce). */
function mixedIds(seq: number): number {
  return seq % 2 === 0 ? (seq >> 1) % WARM : COLD + (seq >> 2);
}

/** Store keys 0..WARM-1 and check that Redis holds them. */
async function warm(getItem: CachedItem): Promise<void> {
  for (let id = 0; id < WARM; id++) expect(await getItem(id)).toEqual(valueFor(id));
  expect(await redis.admin.exists(Array.from({ length: WARM }, (_, id) => getItem.keyFor(id)))).toBe(WARM);
}

/** Start 64 calls in flight against a healthy Redis and wait until the load runs steadily. */
async function steadyLoad(getItem: CachedItem): Promise<Load> {
  const load = new Load((id) => getItem(id), mixedIds, IN_FLIGHT);
  cleanups.push(() => load.stop());
  load.start();
  await waitUntil(() => load.tallies.before.calls >= 4 * IN_FLIGHT, POLLS);
  return load;
}

/** Poll until a call is a hit again (stats.hits grows) and the probe's key is back in Redis. */
async function hitsResume(getItem: CachedItem): Promise<void> {
  await waitUntil(async () => {
    const before = getItem.stats.hits;
    expect(await getItem(PROBE)).toEqual(valueFor(PROBE));
    return getItem.stats.hits > before && (await redis.admin.exists(getItem.keyFor(PROBE))) === 1;
  }, POLLS);
}

/** With the load stopped: the probe is one hit, with its value. */
async function expectProbeHit(getItem: CachedItem): Promise<void> {
  const hits = getItem.stats.hits;
  expect(await getItem(PROBE)).toEqual(valueFor(PROBE));
  expect(getItem.stats.hits).toBe(hits + 1);
}

/** No call failed, no value was wrong, every call was answered, no rejection went unhandled. */
async function expectClean(load: Load): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  expect(load.bad.slice(0, 5)).toEqual([]);
  expect(load.inFlight).toBe(0);
  const total = load.total();
  expect(total).toEqual({ calls: total.calls, served: total.calls, wrong: 0, rejected: 0 });
  expect(unhandled).toEqual([]);
}

/** The counters the figures are made of, at one moment. */
type Counters = { errors: number; skipped: number; hits: number };
function counters(getItem: CachedItem): Counters {
  return { errors: getItem.stats.errors, skipped: getItem.stats.skipped, hits: getItem.stats.hits };
}

/** What one fault test measured; printed as one line. */
interface Figures {
  /** Calls in flight when the fault started. */
  inFlight: number | string;
  /** Calls in flight at the fault or started before recovery (the server back, thawed, or given room). */
  during: Tally;
  /** `stats.errors` and `stats.skipped` (operations the circuit breaker skipped) gained from the fault to recovery. */
  errorsDuring: number;
  skippedDuring: number;
  /** Calls started after recovery, until a call was a hit again, and the errors and skips counted meanwhile. */
  untilHits?: { calls: number; errors: number; skipped: number };
  note: string;
}

/** Figures from counters taken at the fault, at recovery, and once hits resumed. */
function figures(load: Load, atFault: Counters, atRecovery: Counters, atEnd: Counters): Omit<Figures, 'inFlight' | 'note'> {
  return {
    during: load.tallies.fault,
    errorsDuring: atRecovery.errors - atFault.errors,
    skippedDuring: atRecovery.skipped - atFault.skipped,
    untilHits: { calls: load.tallies.after.calls, errors: atEnd.errors - atRecovery.errors, skipped: atEnd.skipped - atRecovery.skipped },
  };
}

const FIGURES = join(__dirname, '..', '..', '.scratch', 'chaos-figures.txt');

function summary(fault: string, f: Figures): void {
  const u = f.untilHits;
  const after = u ? `; after recovery until hits resumed: ${u.calls} calls, stats.errors +${u.errors}, stats.skipped +${u.skipped}` : '';
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(
    FIGURES,
    `${new Date().toISOString()} chaos ${fault}: ${f.inFlight} calls in flight at the fault; during the fault: ${f.during.calls} calls, ${f.during.served} served, ` +
      `${f.during.wrong} wrong, ${f.during.rejected} rejected, stats.errors +${f.errorsDuring}, stats.skipped +${f.skippedDuring}${after}; ${f.note}\n`,
  );
}

describe('chaos: every call answers with the right value while redis-server fails', () => {
  it('serves all 64 calls in flight when redis-server is killed with SIGKILL, and hits resume once it is back', async () => {
    const { getItem, logger } = subject(500);
    await warm(getItem);
    const load = await steadyLoad(getItem);
    const at0 = counters(getItem);

    const inFlight = load.beginFault();
    const killed = redis.sigkill(); // SIGKILL is sent synchronously, with those calls still in flight
    expect(inFlight).toBe(IN_FLIGHT);
    await killed;
    await waitUntil(() => load.tallies.fault.calls >= 8 * IN_FLIGHT, POLLS); // calls keep coming while it is dead
    const dead = { calls: load.tallies.fault.calls, ...counters(getItem) };
    await redis.start(); // same port, empty: nothing is persisted
    load.recover();
    const at1 = counters(getItem);

    await hitsResume(getItem);
    await load.stop();
    await expectClean(load);
    await expectProbeHit(getItem);
    expect(dead.errors - at0.errors).toBeGreaterThan(0);
    // Each call started after the kill and answered while Redis was dead had its read fail or skipped.
    expect(dead.errors - at0.errors + (dead.skipped - at0.skipped)).toBeGreaterThanOrEqual(dead.calls - IN_FLIGHT);
    expect(dead.hits - at0.hits).toBeLessThanOrEqual(IN_FLIGHT); // only reads answered before the kill
    summary('SIGKILL', {
      ...figures(load, at0, at1, counters(getItem)),
      inFlight,
      note: `${dead.calls} calls answered while dead; failures logged: ${breakdown(logger.byError)}`,
    });
  }, 60_000);

  it('serves all 64 calls in flight when redis-server is frozen with SIGSTOP, and hits resume after SIGCONT', async () => {
    const { getItem, logger } = subject(200);
    await warm(getItem);
    const load = await steadyLoad(getItem);
    const at0 = counters(getItem);

    const inFlight = load.beginFault();
    redis.freeze();
    let frozen: { calls: number; errors: number; skipped: number; hits: number };
    try {
      expect(inFlight).toBe(IN_FLIGHT);
      // Redis answers nothing now: every call settled from here on went around it (timeout or breaker).
      await waitUntil(() => load.tallies.fault.calls >= 2 * IN_FLIGHT, POLLS);
      frozen = { calls: load.tallies.fault.calls, ...counters(getItem) };
    } finally {
      redis.thaw();
    }
    load.recover();
    const at1 = counters(getItem);
    const failures = breakdown(logger.byError);

    await hitsResume(getItem);
    await load.stop();
    await expectClean(load);
    await expectProbeHit(getItem);
    expect(frozen.errors - at0.errors).toBeGreaterThan(0);
    expect(frozen.errors - at0.errors + (frozen.skipped - at0.skipped)).toBeGreaterThanOrEqual(frozen.calls - IN_FLIGHT);
    expect(frozen.hits - at0.hits).toBeLessThanOrEqual(IN_FLIGHT); // only reads answered before the freeze
    // The operations sent to the frozen server timed out (later ones may be skipped by the circuit breaker).
    expect((logger.byError['read CacheTimeoutError'] ?? 0) + (logger.byError['write CacheTimeoutError'] ?? 0)).toBeGreaterThan(0);
    summary('SIGSTOP', {
      ...figures(load, at0, at1, counters(getItem)),
      inFlight,
      note: `${frozen.calls} calls answered while frozen (${frozen.hits - at0.hits} hits read before the freeze); failures logged while frozen: ${failures}`,
    });
  }, 60_000);

  it('keeps serving while redis-server is restarted on the same port, and hits resume after the restart', async () => {
    const { getItem, logger } = subject(500);
    await warm(getItem);
    await getItem(UNTOUCHED);
    const load = await steadyLoad(getItem);
    const at0 = counters(getItem);

    const inFlight = load.beginFault();
    expect(inFlight).toBe(IN_FLIGHT);
    await redis.restart(); // graceful stop, then start on the same port; the load keeps calling throughout
    load.recover();
    const at1 = counters(getItem);
    expect(await redis.admin.exists(getItem.keyFor(UNTOUCHED))).toBe(0); // it came back empty

    await hitsResume(getItem);
    await load.stop();
    await expectClean(load);
    await expectProbeHit(getItem);
    expect(at1.errors - at0.errors).toBeGreaterThan(0);
    summary('restart', { ...figures(load, at0, at1, counters(getItem)), inFlight, note: `failures logged: ${breakdown(logger.byError)}` });
  }, 60_000);

  it('serves hits and fails writes open when maxmemory is reached with noeviction, and hits resume once there is room', async () => {
    // A long operation timeout: only Redis' OOM refusals, never a timeout, may fail an operation here.
    const { getItem, runs, logger } = subject('10s');
    await warm(getItem);
    await fill(redis);

    const before = { ...counters(getItem), misses: getItem.stats.misses, runs: runs.count };
    let warmCalls = 0;
    const load = new Load(
      (id) => {
        if (id < WARM) warmCalls++;
        return getItem(id);
      },
      mixedIds,
      IN_FLIGHT,
    );
    cleanups.push(() => load.stop());
    load.beginFault(); // Redis is full before the first call
    load.start();
    await waitUntil(() => load.tallies.fault.calls >= 8 * IN_FLIGHT, POLLS);
    await load.stop();
    await expect(redis.admin.set('chaos:probe', 'x')).rejects.toThrow(/^OOM/); // still full at the end

    const hits = getItem.stats.hits - before.hits;
    const errors = getItem.stats.errors - before.errors;
    const originRuns = runs.count - before.runs;
    const coldCalls = load.tallies.fault.calls - warmCalls;
    await expectClean(load);
    expect(hits).toBe(warmCalls); // reads still serve: every call on a stored key is a hit
    expect(getItem.stats.misses - before.misses).toBe(coldCalls);
    expect(originRuns).toBeGreaterThanOrEqual(coldCalls / 2); // at most two calls share a run
    expect(errors).toBe(originRuns); // each run's write was refused, and counted once
    expect(logger.oomWrites).toBe(originRuns);
    const coldKeys = Array.from({ length: Math.ceil(coldCalls / 2) }, (_, i) => getItem.keyFor(COLD + i));
    expect(await redis.admin.exists(coldKeys)).toBe(0); // nothing was written

    await redis.admin.configSet('maxmemory', '0');
    await hitsResume(getItem);
    await expectProbeHit(getItem);
    expect(unhandled).toEqual([]);
    summary('maxmemory', {
      inFlight: `${IN_FLIGHT} (Redis full before the first call)`,
      during: load.tallies.fault,
      errorsDuring: errors,
      skippedDuring: getItem.stats.skipped - before.skipped,
      note: `${hits} hits (= calls on stored keys), ${coldCalls} misses, ${originRuns} origin runs, ${logger.oomWrites} writes refused with OOM`,
    });
  }, 60_000);
});

/**
 * Fill Redis under `maxmemory` with `noeviction` until a write is refused with OOM. Then lower the
 * limit 1 MB under the memory now in use, so that buffers Redis frees later cannot make room for
 * a small write while the test runs: it stays full until the limit is lifted.
 */
async function fill(server: TestRedis): Promise<void> {
  const admin = server.admin;
  await admin.configSet('maxmemory-policy', 'noeviction');
  await admin.configSet('maxmemory', String((await usedMemory(server)) + 2 * MB));
  const chunk = 'x'.repeat(64 * 1024);
  let refusal: unknown;
  for (let i = 0; i < 1_000 && refusal === undefined; i++) {
    await admin.set(`chaos:filler:${i}`, chunk).catch((error: unknown) => (refusal = error));
  }
  expect(refusal).toBeInstanceOf(Error);
  expect((refusal as Error).message).toMatch(/^OOM/);
  await admin.configSet('maxmemory', String(Math.max(1, (await usedMemory(server)) - MB)));
  await expect(admin.set('chaos:probe', 'x')).rejects.toThrow(/^OOM/);
}

async function usedMemory(server: TestRedis): Promise<number> {
  const info = await server.admin.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory has no used_memory line');
  return Number(match[1]);
}
