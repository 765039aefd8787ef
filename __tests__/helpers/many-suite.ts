/**
 * The behaviour of `f.many()`, written once and run on every store (memory, real Redis): order,
 * only the misses reach the origin, the `batch` contract, single-flight with single calls, per-item
 * stats, call options on every item, repeated items and the empty list.
 */
import { describe, expect, it } from '@jest/globals';
import { CacheBatchError, cached, type Cache } from '../../lib/index.js';
import { deferred, flush } from './deferred.js';

/** What the suite needs of a store under test. */
export interface ManySuiteStore {
  /** A fresh cache on the store (entries of earlier tests gone). */
  cache(): Cache;
  /** The remaining time to live of `key` in ms, `undefined` when absent. */
  ttlOf(key: string): Promise<number | undefined>;
  /** How many store operations have been made since the cache was created. */
  operations(): Promise<number>;
}

/** Let the event loop turn (I/O included, no timers) until `check` holds; bounded. */
async function until(check: () => boolean): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (check()) return;
    await flush();
  }
  throw new Error('until: the condition never held');
}

/** An origin that records the ids it ran for and answers `{ id, run }`. */
function recorder() {
  const ran: number[] = [];
  const origin = async (id: number): Promise<{ id: number; run: number }> => {
    ran.push(id);
    return { id, run: ran.length };
  };
  return { ran, origin };
}

/** A batch origin that records each call's argument lists and answers `{ id, batch }` per list. */
function batchRecorder() {
  const calls: number[][][] = [];
  const batch = async (argsList: Array<[id: number]>): Promise<Array<{ id: number; run: number }>> => {
    calls.push(argsList.map((args) => [...args]));
    return argsList.map(([id]) => ({ id, run: -calls.length }));
  };
  return { calls, batch };
}

export function manySuite(storeName: string, store: () => ManySuiteStore): void {
  describe(`f.many() on the ${storeName} store`, () => {
    it('resolves to the results in the order of the argument lists, and only the misses reach the origin', async () => {
      const { ran, origin } = recorder();
      const f = cached(origin, { cache: store().cache(), name: 'f', ttl: '1m' });
      await f(2);
      await f(4);
      const results = await f.many([[4], [1], [2], [3]]);
      expect(results.map((r) => r.id)).toEqual([4, 1, 2, 3]);
      expect(ran.sort()).toEqual([1, 2, 3, 4]); // 2 and 4 by the single calls, 1 and 3 by many()
      expect(await f.many([[3], [1]])).toEqual([results[3], results[1]]); // stored: all hits now
      expect(ran).toHaveLength(4);
    });

    it('counts stats per item: hits, misses, and misses that joined a run in flight', async () => {
      const gate = deferred<void>();
      const started: number[] = [];
      const f = cached(
        async (id: number) => {
          started.push(id);
          if (id === 3) await gate.promise;
          return id;
        },
        { cache: store().cache(), name: 'f', ttl: '1m' },
      );
      await f(1);
      const single = f(3); // in flight while many() reads
      await until(() => started.includes(3));
      const many = f.many([[1], [2], [3]]);
      await until(() => f.stats.coalesced === 1);
      gate.resolve();
      expect(await many).toEqual([1, 2, 3]);
      expect(await single).toBe(3);
      expect(f.stats).toMatchObject({ hits: 1, misses: 2 + 2, coalesced: 1, errors: 0 }); // 2 single calls, 2 items
    });

    it('resolves an empty list to [] without a store operation', async () => {
      const s = store();
      const { ran, origin } = recorder();
      const f = cached(origin, { cache: s.cache(), name: 'f', ttl: '1m' });
      const before = await s.operations();
      expect(await f.many([])).toEqual([]);
      expect(await s.operations()).toBe(before);
      expect(ran).toEqual([]);
      expect(f.stats).toMatchObject({ hits: 0, misses: 0 });
    });

    it('reads and runs repeated argument lists once, counting each item', async () => {
      const { ran, origin } = recorder();
      const f = cached(origin, { cache: store().cache(), name: 'f', ttl: '1m' });
      await f(1);
      const results = await f.many([[2], [1], [2], [1], [2]]);
      expect(results.map((r) => r.id)).toEqual([2, 1, 2, 1, 2]);
      expect(results[0]).toBe(results[2]);
      expect(ran).toEqual([1, 2]);
      expect(f.stats).toMatchObject({ hits: 2, misses: 1 + 3, coalesced: 2 });
    });

    it('calls batch once, with exactly the argument lists of the misses, in order', async () => {
      const { ran, origin } = recorder();
      const { calls, batch } = batchRecorder();
      const f = cached(origin, { cache: store().cache(), name: 'f', ttl: '1m', batch });
      await f(2);
      const results = await f.many([[3], [2], [1], [3]]);
      expect(calls).toEqual([[[3], [1]]]);
      expect(results).toEqual([
        { id: 3, run: -1 },
        { id: 2, run: 1 },
        { id: 1, run: -1 },
        { id: 3, run: -1 },
      ]);
      expect(ran).toEqual([2]);
      // The batch's results were cached like the origin's.
      expect(await f(1)).toEqual({ id: 1, run: -1 });
      expect(await f.many([[1], [3]])).toEqual([results[2], results[0]]);
      expect(calls).toHaveLength(1);
    });

    it('leaves out of the batch the misses a single call already runs, and joins that run', async () => {
      const gate = deferred<void>();
      let singleRuns = 0;
      const { calls, batch } = batchRecorder();
      const f = cached(
        async (id: number) => {
          singleRuns++;
          await gate.promise;
          return { id, run: 0 };
        },
        { cache: store().cache(), name: 'f', ttl: '1m', batch },
      );
      const single = f(2);
      await until(() => singleRuns === 1);
      const many = f.many([[1], [2]]);
      await until(() => calls.length === 1);
      gate.resolve();
      expect(await many).toEqual([
        { id: 1, run: -1 },
        { id: 2, run: 0 },
      ]);
      expect(await single).toEqual({ id: 2, run: 0 });
      expect(calls).toEqual([[[1]]]);
      expect(singleRuns).toBe(1);
    });

    it('lets a single call join the run of a many() miss (one origin run)', async () => {
      const gate = deferred<void>();
      const ran: number[] = [];
      const f = cached(
        async (id: number) => {
          ran.push(id);
          await gate.promise;
          return id * 10;
        },
        { cache: store().cache(), name: 'f', ttl: '1m' },
      );
      const many = f.many([[1], [2]]);
      await until(() => ran.length === 2);
      const single = f(2);
      await until(() => f.stats.coalesced === 1);
      gate.resolve();
      expect(await many).toEqual([10, 20]);
      expect(await single).toBe(20);
      expect(ran.sort()).toEqual([1, 2]);
      expect(f.stats).toMatchObject({ misses: 3, coalesced: 1 });
    });

    it('lets a single call join an item of a batch in flight (one batch call, no origin run)', async () => {
      const gate = deferred<void>();
      let originRuns = 0;
      let batchCalls = 0;
      const f = cached(
        async (id: number) => {
          originRuns++;
          return id;
        },
        {
          cache: store().cache(),
          name: 'f',
          ttl: '1m',
          batch: async (argsList) => {
            batchCalls++;
            await gate.promise;
            return argsList.map(([id]) => id * 100);
          },
        },
      );
      const many = f.many([[1], [2]]);
      await until(() => batchCalls === 1);
      const single = f(2);
      await until(() => f.stats.coalesced === 1);
      gate.resolve();
      expect(await many).toEqual([100, 200]);
      expect(await single).toBe(200);
      expect(batchCalls).toBe(1);
      expect(originRuns).toBe(0);
    });

    it.each([
      ['resolves to fewer results than argument lists', async (argsList: unknown[][]) => argsList.slice(1).map(() => 'secret-value'), '2 results for 3'],
      ['resolves to more results than argument lists', async (argsList: unknown[][]) => [...argsList.map(() => 'secret-value'), 'secret-value'], '4 results for 3'],
      ['resolves to something that is not an array', async () => ({ 0: 'secret-value', length: 3 }), 'it resolved to object'],
      ['returns a wrong-length array synchronously', () => ['secret-value'], '1 results for 3'],
    ])('settles every caller with a CacheBatchError and caches nothing when the batch %s', async (_, wrong, says) => {
      const gate = deferred<void>();
      let batchCalls = 0;
      const f = cached(async (id: number) => `origin-${id}`, {
        cache: store().cache(),
        name: 'f',
        ttl: '1m',
        batch: (async (argsList: unknown[][]) => {
          batchCalls++;
          await gate.promise;
          return wrong(argsList);
        }) as never,
      });
      const many = f.many([[1], [2], [3]]);
      many.catch(() => {});
      await until(() => batchCalls === 1);
      const joined = f(2); // waits on the batch's item for key 2
      joined.catch(() => {});
      await until(() => f.stats.coalesced === 1);
      gate.resolve();
      const error = await many.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CacheBatchError);
      expect((error as CacheBatchError).code).toBe('CACHE_ERR_BATCH');
      expect((error as Error).message).toContain('f: batch');
      expect((error as Error).message).toContain(says);
      expect((error as Error).message).not.toContain('secret-value');
      await expect(joined).rejects.toBe(error);
      // Nothing was cached: the next calls reach the origin.
      expect(await f(1)).toBe('origin-1');
      expect(await f(3)).toBe('origin-3');
    });

    it('settles every caller waiting on a batch with its error, and caches nothing, when the batch rejects', async () => {
      const gate = deferred<void>();
      let originRuns = 0;
      let batchCalls = 0;
      const f = cached(
        async (id: number) => {
          originRuns++;
          return id;
        },
        {
          cache: store().cache(),
          name: 'f',
          ttl: '1m',
          batch: async () => {
            batchCalls++;
            await gate.promise;
            throw new Error('batch down');
          },
        },
      );
      const many = f.many([[1], [2]]);
      many.catch(() => {});
      await until(() => batchCalls === 1);
      const joined = f(1);
      joined.catch(() => {});
      await until(() => f.stats.coalesced === 1);
      gate.resolve();
      await expect(many).rejects.toThrow('batch down');
      await expect(joined).rejects.toThrow('batch down');
      expect(originRuns).toBe(0);
      expect(await f(1)).toBe(1);
      expect(originRuns).toBe(1);
    });

    it('rejects many() with the error of a batch that throws synchronously, and caches nothing', async () => {
      const f = cached(async (id: number) => id, {
        cache: store().cache(),
        name: 'f',
        ttl: '1m',
        batch: () => {
          throw new Error('batch down');
        },
      });
      await expect(f.many([[1], [2]])).rejects.toThrow('batch down');
      expect(await f(1)).toBe(1); // a single call runs the function itself
      expect(await f(2)).toBe(2);
      expect(f.stats).toMatchObject({ hits: 0, misses: 4 });
    });

    it('applies bypassCache to every item: no read, no write, the origin for each', async () => {
      const s = store();
      const { ran, origin } = recorder();
      const f = cached(origin, { cache: s.cache(), name: 'f', ttl: '1m' });
      await f(1);
      const results = await f.many([[1], [2]], { bypassCache: true });
      expect(results).toEqual([
        { id: 1, run: 2 },
        { id: 2, run: 3 },
      ]);
      expect(ran).toEqual([1, 1, 2]);
      expect(f.stats).toMatchObject({ bypasses: 2, hits: 0, misses: 1 });
      expect(await s.ttlOf(f.keyFor(2))).toBeUndefined();
    });

    it('applies forceRefresh to every item: the origin (or batch) runs for cached keys, and the results are stored', async () => {
      const { ran, origin } = recorder();
      const { calls, batch } = batchRecorder();
      const f = cached(origin, { cache: store().cache(), name: 'f', ttl: '1m', batch });
      await f(1);
      await f(2);
      const results = await f.many([[1], [2]], { forceRefresh: true });
      expect(calls).toEqual([[[1], [2]]]);
      expect(results).toEqual([
        { id: 1, run: -1 },
        { id: 2, run: -1 },
      ]);
      expect(ran).toEqual([1, 2]);
      expect(f.stats).toMatchObject({ refreshes: 2 });
      expect(await f(2)).toEqual({ id: 2, run: -1 });
    });

    it('applies cacheWrite: false to every item: misses are answered and not stored', async () => {
      const s = store();
      const { origin } = recorder();
      const f = cached(origin, { cache: s.cache(), name: 'f', ttl: '1m' });
      await f.many([[1], [2]], { cacheWrite: false });
      expect(await s.ttlOf(f.keyFor(1))).toBeUndefined();
      expect(await s.ttlOf(f.keyFor(2))).toBeUndefined();
    });

    it('applies a per-call ttl to every item: to what misses store, and to the hits it extends', async () => {
      const s = store();
      const { origin } = recorder();
      const f = cached(origin, { cache: s.cache(), name: 'f', ttl: '1m' });
      await f(1);
      await f.many([[1], [2]], { ttl: '1h' });
      for (const id of [1, 2]) {
        const ttl = Math.floor((await s.ttlOf(f.keyFor(id))) ?? 0);
        expect(ttl).toBeGreaterThan(60_000);
        expect(ttl).toBeLessThanOrEqual(3_600_000);
      }
      expect(f.stats).toMatchObject({ hits: 1, misses: 2 });
    });

    it('rejects an argument list that is not an array, before any read', async () => {
      const s = store();
      const f = cached(async (id: number) => id, { cache: s.cache(), name: 'f' });
      const before = await s.operations();
      await expect(f.many([[1], 2] as never)).rejects.toMatchObject({ code: 'CACHE_ERR_CONFIG', field: 'argsList.1' });
      await expect(f.many('1' as never)).rejects.toMatchObject({ code: 'CACHE_ERR_CONFIG', field: 'argsList' });
      expect(await s.operations()).toBe(before);
    });
  });
}
