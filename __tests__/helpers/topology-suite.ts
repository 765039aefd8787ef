/**
 * The behaviour cachette promises on every Redis topology, written once and run on each by
 * `topologySuite(name, topology)`: standalone (`integration/topology-standalone.test.ts`), a 3-master
 * Cluster (`integration/cluster.test.ts`) and Sentinel (`integration/sentinel.test.ts`). Each file
 * starts its topology once and describes it with a {@link TopologyUnderTest}; caches are made with
 * the `store: { type: 'redis', url | cluster | sentinel }` config form and checked on the node that
 * owns each key, asked of the servers (CLUSTER KEYSLOT / SLOTS, the sentinels' primary).
 *
 * Covered: miss then hit (a cached `null` too), sliding TTL, stale serving, the cross-process lock,
 * the breaker and fail-open, `invalidate` / `refresh` / `keyFor`, tags and `clear()` (what a tagged hit
 * costs, counted on the servers), and `f.many()` (the shared {@link manySuite}). To add a behaviour, add a `describe` block inside
 * `topologySuite` below: it gets `cache()`, a namespace of its own per test, and `topology()`.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, type Cache, type CacheConfig, type RedisClusterConfig, type RedisSentinelConfig, type RedisUrlConfig } from '../../lib/index.js';
import { lockKeyOf } from '../../lib/locks.js';
import { keySlot } from '../../lib/stores/redis-cluster.js';
import { deferred } from './deferred.js';
import { fakeClock } from './fake-clock.js';
import { manySuite } from './many-suite.js';
import { waitFor } from './redis-process.js';
import { waitUntil } from './redis-server.js';
import { isRecordKey } from './test-stores.js';

/** Bound of every poll on a state; a healthy run needs a fraction of it. */
const LIMIT_MS = 20_000;
/** Bound of a test that polls (above jest's 5 s default, so a poll's own message names what never happened). */
const TEST_MS = LIMIT_MS + 10_000;

/** The `store` config of a cache on a topology, in the form users write. */
export type TopologyStore = RedisUrlConfig | RedisClusterConfig | RedisSentinelConfig;

/** The client of one node the suite talks to (any node-redis client: only `sendCommand` is used). */
export interface CommandSender {
  sendCommand(args: string[]): Promise<unknown>;
}

/** One data node that owns keys (a standalone server, a cluster master, the Sentinel primary). */
export interface DataNode {
  /** Tells nodes apart in assertions, e.g. `'127.0.0.1:7001'`. */
  readonly id: string;
  get(key: string): Promise<string | null>;
  /** The key's remaining TTL in ms (`-2` absent, `-1` no TTL). */
  pTTL(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  /** Keys matching `pattern` (KEYS: a test-only inspection of a small data set). */
  keys(pattern: string): Promise<string[]>;
  /** Data commands (get, mget, getex, set, del, eval, evalsha) the node has executed since it started. */
  dataCommands(): Promise<number>;
  /**
   * Calls per command the node has executed since {@link DataNode.resetStats}, by lowercase name,
   * without the topology's own traffic (INFO, PING, replication, cluster bus, sentinel hellos …).
   */
  commandCalls(): Promise<Record<string, number>>;
  /** `CONFIG RESETSTAT`: zero the command counts. */
  resetStats(): Promise<void>;
  del(key: string): Promise<boolean>;
  pExpire(key: string, ms: number): Promise<boolean>;
  /**
   * Hold every write until {@link DataNode.unpause} (`CLIENT PAUSE … WRITE`): reads, PINGs and
   * `CLIENT UNPAUSE` still run, replicas and the cluster bus go on, so nothing starts a failover.
   */
  pauseWrites(): Promise<void>;
  unpause(): Promise<void>;
}

/** Commands the servers, sentinels and inspection clients send by themselves: not cachette's. */
const TOPOLOGY_TRAFFIC = new Set(['info', 'config', 'ping', 'replconf', 'psync', 'sync', 'publish', 'subscribe', 'cluster', 'client', 'hello', 'select', 'command', 'role', 'auth']);

/** A data node on top of a plain client of it. */
export function dataNode(id: string, client: CommandSender): DataNode {
  return {
    id,
    get: async (key) => (await client.sendCommand(['GET', key])) as string | null,
    pTTL: async (key) => Number(await client.sendCommand(['PTTL', key])),
    exists: async (key) => Number(await client.sendCommand(['EXISTS', key])) === 1,
    keys: async (pattern) => ((await client.sendCommand(['KEYS', pattern])) as string[]).sort(),
    async dataCommands() {
      const stats = String(await client.sendCommand(['INFO', 'commandstats']));
      let calls = 0;
      for (const match of stats.matchAll(/^cmdstat_(get|mget|getex|set|del|evalsha|eval):calls=(\d+)/gm)) calls += Number(match[2]);
      return calls;
    },
    async commandCalls() {
      const stats = String(await client.sendCommand(['INFO', 'commandstats']));
      const calls: Record<string, number> = {};
      for (const match of stats.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
        if (!TOPOLOGY_TRAFFIC.has(match[1]!.split('|')[0]!)) calls[match[1]!] = Number(match[2]);
      }
      return calls;
    },
    async resetStats() {
      await client.sendCommand(['CONFIG', 'RESETSTAT']);
    },
    del: async (key) => Number(await client.sendCommand(['DEL', key])) === 1,
    pExpire: async (key, ms) => Number(await client.sendCommand(['PEXPIRE', key, String(ms)])) === 1,
    async pauseWrites() {
      // Bounded, should a failed test never lift it.
      await client.sendCommand(['CLIENT', 'PAUSE', String(LIMIT_MS), 'WRITE']);
    },
    async unpause() {
      await client.sendCommand(['CLIENT', 'UNPAUSE']);
    },
  };
}

/** What the suite needs of a running topology. */
export interface TopologyUnderTest {
  /** How many nodes own keys: 3 on the cluster (its masters), 1 otherwise. */
  readonly owners: number;
  /** The store config of a cache on this topology. */
  store(): TopologyStore;
  /** The same config form, aimed at ports nothing listens on. */
  unreachableStore(): Promise<TopologyStore>;
  /** The node owning `key` now, asked of the servers. */
  ownerOf(key: string): Promise<DataNode>;
  /** Every node owning keys now. */
  owningNodes(): DataNode[];
}

/** Options a test may give the caches it makes. */
type CacheExtras = Pick<CacheConfig, 'clock' | 'breaker' | 'logger' | 'clearPollInterval' | 'l1'> & { opTimeout?: number; store?: TopologyStore };

/** A logger that keeps what it is given (a green run prints nothing). */
function recordingLogger() {
  const kinds: string[] = [];
  const record = (fields: Record<string, unknown>): void => void kinds.push(String(fields.kind));
  return { kinds, warn: record, error: record };
}

/** An origin that counts its runs and answers `{ id, run }`. */
function counting() {
  const counter = { runs: 0 };
  const origin = async (id: number): Promise<{ id: number; run: number }> => ({ id, run: ++counter.runs });
  return { counter, origin };
}

/**
 * Register the shared behaviour for one topology. `topology` is called inside the tests (the file's
 * `beforeAll` has started it by then). Every test gets caches from `cache()` in a namespace of its own.
 */
export function topologySuite(name: string, topology: () => TopologyUnderTest): void {
  describe(`cachette on Redis ${name}`, () => {
    let tests = 0;
    let namespace = '';
    const opened: Cache[] = [];
    beforeEach(() => {
      // A namespace per test: no flush needed, and entries of other tests never answer.
      namespace = `topo${++tests}-${Date.now().toString(36)}`;
    });
    afterEach(async () => {
      for (const cache of opened.splice(0)) await cache.close();
    });

    /** A fresh cache on the topology, in this test's namespace (two caches of one test share entries and locks). */
    function cache(extras: CacheExtras = {}): Cache {
      const { opTimeout, store = topology().store(), ...rest } = extras;
      const made = createCache({ store: { ...store, ...(opTimeout === undefined ? {} : { opTimeout }) }, namespace, logger: recordingLogger(), ...rest });
      opened.push(made);
      return made;
    }

    describe('hits and misses', () => {
      it('misses once, stores each entry on the node owning its key, then hits (keys of every owning node)', async () => {
        const t = topology();
        const { counter, origin } = counting();
        const f = cached(origin, { cache: cache(), name: 'f', ttl: '1m' });
        const ids = Array.from({ length: 24 }, (_, i) => i);
        const owners = await Promise.all(ids.map((id) => t.ownerOf(f.keyFor(id))));
        expect(new Set(owners.map((node) => node.id)).size).toBe(t.owners);
        const first = await Promise.all(ids.map((id) => f(id)));
        expect(await Promise.all(ids.map((id) => f(id)))).toEqual(first);
        expect(counter.runs).toBe(ids.length);
        expect(f.stats).toMatchObject({ hits: ids.length, misses: ids.length, errors: 0 });
        for (const [i, id] of ids.entries()) expect(await owners[i]!.get(f.keyFor(id))).toContain(`"id":${id}`);
      });

      it('treats a cached null as a hit', async () => {
        let runs = 0;
        const f = cached(
          async (id: number) => {
            runs++;
            return id > 0 ? null : { id };
          },
          { cache: cache(), name: 'f', ttl: '1m' },
        );
        expect(await f(1)).toBeNull();
        expect(await f(1)).toBeNull();
        expect(runs).toBe(1);
        expect(f.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
        expect(await (await topology().ownerOf(f.keyFor(1))).exists(f.keyFor(1))).toBe(true);
      });
    });

    describe('sliding TTL', () => {
      it('extends a hit with a per-call ttl, on the node owning the key', async () => {
        const t = topology();
        const f = cached(async (id: number) => ({ id }), { cache: cache(), name: 'f', ttl: '10s' });
        const ids = [1, 2, 3, 4, 5, 6];
        await Promise.all(ids.map((id) => f(id)));
        const owners = await Promise.all(ids.map((id) => t.ownerOf(f.keyFor(id))));
        for (const [i, id] of ids.entries()) {
          const pttl = await owners[i]!.pTTL(f.keyFor(id));
          expect(pttl).toBeGreaterThan(0);
          expect(pttl).toBeLessThanOrEqual(10_000);
        }
        expect(await Promise.all(ids.map((id) => f(id, { ttl: '10m' })))).toEqual(ids.map((id) => ({ id })));
        expect(f.stats).toMatchObject({ hits: 6, misses: 6 });
        for (const [i, id] of ids.entries()) expect(await owners[i]!.pTTL(f.keyFor(id))).toBeGreaterThan(500_000);
        // Without a per-call ttl, a hit leaves the TTL alone.
        await f(1);
        expect(await owners[0]!.pTTL(f.keyFor(1))).toBeGreaterThan(500_000);
      });
    });

    describe('stale serving', () => {
      it('serves a stale entry within staleWhileRevalidate and replaces it in the background', async () => {
        const clock = fakeClock();
        let version = 0;
        const f = cached(async (id: number) => ({ id, version: ++version }), { cache: cache({ clock }), name: 'f', ttl: '10s', staleWhileRevalidate: '1m' });
        await f(1);
        const owner = await topology().ownerOf(f.keyFor(1));
        // The entry outlives its ttl by the stale window on the server.
        expect(await owner.pTTL(f.keyFor(1))).toBeGreaterThan(10_000);
        clock.advance(20_000);
        expect(await f(1)).toEqual({ id: 1, version: 1 });
        await waitFor('the background refresh to store version 2', async () => String(await owner.get(f.keyFor(1))).includes('"version":2'), LIMIT_MS);
        expect(await f(1)).toEqual({ id: 1, version: 2 });
        expect(version).toBe(2);
        expect(f.stats).toMatchObject({ stale: 1, hits: 1, misses: 1, errors: 0 });
      }, TEST_MS);
    });

    describe('the cross-process lock', () => {
      it('runs the origin once for two caches (two clients) sharing the lock, and releases it', async () => {
        const t = topology();
        const gate = deferred<void>();
        let runs = 0;
        const origin = async (id: number) => {
          runs++;
          await gate.promise;
          return { id, run: runs };
        };
        const a = cached(origin, { cache: cache(), name: 'user', ttl: '1m', lock: true });
        const b = cached(origin, { cache: cache(), name: 'user', ttl: '1m', lock: true });
        // Where there are several owners, a key whose lock lives on another node than its entry.
        let id = 0;
        if (t.owners > 1) {
          while ((await t.ownerOf(lockKeyOf(a.keyFor(id)))).id === (await t.ownerOf(a.keyFor(id))).id) id++;
        }
        const lockOwner = await t.ownerOf(lockKeyOf(a.keyFor(id)));

        const first = a(id);
        await waitFor('the first cache to take the lock', async () => lockOwner.exists(lockKeyOf(a.keyFor(id))), LIMIT_MS, 10);
        const second = Promise.all([b(id), b(id)]);
        await waitFor('the second cache to wait for the lock', async () => b.stats.lockWaits === 1, LIMIT_MS, 10);
        gate.resolve();
        expect(await first).toEqual({ id, run: 1 });
        expect(await second).toEqual([
          { id, run: 1 },
          { id, run: 1 },
        ]);
        expect(runs).toBe(1);
        expect(b.stats).toMatchObject({ lockWaits: 1, lockTimeouts: 0, lockTakeovers: 0, errors: 0 });
        expect(await lockOwner.exists(lockKeyOf(a.keyFor(id)))).toBe(false);
      }, TEST_MS);
    });

    describe('the breaker and fail-open', () => {
      it('reports a connected cache healthy, and closed after close()', async () => {
        const made = cache();
        expect(made.health()).toMatchObject({ connection: 'idle', ok: false });
        await made.connect();
        expect(made.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 0, connection: 'ready', ok: true });
        await made.close();
        expect(made.health()).toMatchObject({ connection: 'closed', ok: false });
      });

      it('opens when writes on the owning node time out, skips it, and its probe closes it once the node answers', async () => {
        const t = topology();
        const clock = fakeClock();
        const logger = recordingLogger();
        const made = cache({ clock, logger, opTimeout: 50, breaker: { threshold: 1, cooldown: '5s' } });
        const { counter, origin } = counting();
        const f = cached(origin, { cache: made, name: 'f', ttl: '1h' });
        await f(1);
        const owner = await t.ownerOf(f.keyFor(1));
        let other = 2;
        while ((await t.ownerOf(f.keyFor(other))).id !== owner.id) other++;
        await owner.pauseWrites();
        try {
          // Its read misses, its write times out: one failure opens the breaker.
          expect(await f(other)).toEqual({ id: other, run: 2 });
          expect(made.health()).toMatchObject({ state: 'open', consecutiveFailures: 1, opens: 1, ok: false });
          expect(f.stats).toMatchObject({ misses: 2, errors: 1, skipped: 0 });
          // Nothing attempted: the read and the write are skipped, the origin answers.
          expect(await f(1)).toEqual({ id: 1, run: 3 });
          expect(f.stats).toMatchObject({ misses: 3, errors: 1, skipped: 2 });
        } finally {
          await owner.unpause();
        }
        expect(logger.kinds.filter((kind) => kind === 'breaker')).toEqual(['breaker']);
        await waitFor('the store to be connected', async () => made.health().connection === 'ready', LIMIT_MS);
        expect(made.health().state).toBe('open');
        expect(await f(1)).toEqual({ id: 1, run: 4 }); // still within the cool-down
        clock.advance(5_000);
        // The probe (this call's read) finds the entry stored before the pause: a hit.
        expect(await f(1)).toEqual({ id: 1, run: 1 });
        expect(made.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 1, connection: 'ready', ok: true });
        expect(f.stats).toMatchObject({ hits: 1, errors: 1 });
        expect(counter.runs).toBe(4);
      }, TEST_MS);

      it('answers every call from the origin when the topology cannot be reached, counting every read and write', async () => {
        const made = cache({ store: await topology().unreachableStore() });
        const { counter, origin } = counting();
        const f = cached(origin, { cache: made, name: 'f', ttl: '1m' });
        const answers: unknown[] = [];
        for (let id = 1; id <= 6; id++) answers.push(await f(id));
        expect(answers).toEqual(Array.from({ length: 6 }, (_, i) => ({ id: i + 1, run: i + 1 })));
        expect(counter.runs).toBe(6);
        expect(f.stats).toMatchObject({ hits: 0, misses: 6 });
        // Each call's read and write either failed or was skipped (breaker open, or the store known down).
        expect(f.stats.errors).toBeGreaterThan(0);
        expect(f.stats.errors + f.stats.skipped).toBe(12);
        expect(made.health()).toMatchObject({ ok: false });
      });
    });

    describe('invalidate, refresh and keyFor', () => {
      it('stores under exactly the key keyFor names, on the node owning it', async () => {
        const f = cached(async (id: number, kind: string) => ({ id, kind }), { cache: cache(), name: 'f', ttl: '1m' });
        await f(1, 'a');
        const key = f.keyFor(1, 'a');
        expect(key.startsWith(`${namespace}:`)).toBe(true);
        const owner = await topology().ownerOf(key);
        // The only entry under the namespace (the invalidation records are not entries).
        expect((await owner.keys(`${namespace}:*`)).filter((k) => !isRecordKey(k))).toEqual([key]);
        expect(await owner.get(key)).toContain('"kind":"a"');
      });

      it('invalidates an entry on its node, and refresh replaces it there', async () => {
        let version = 0;
        const f = cached(async (id: number) => ({ id, version: ++version }), { cache: cache(), name: 'f', ttl: '1m' });
        await f(1);
        await f(2);
        const owner = await topology().ownerOf(f.keyFor(1));
        expect(await f.invalidate(1)).toBe(true);
        expect(await owner.exists(f.keyFor(1))).toBe(false);
        expect(await f.invalidate(1)).toBe(false);
        expect(await f(2)).toEqual({ id: 2, version: 2 }); // the other entry is untouched
        expect(await f(1)).toEqual({ id: 1, version: 3 });
        expect(await f.refresh(1)).toEqual({ id: 1, version: 4 });
        expect(await owner.get(f.keyFor(1))).toContain('"version":4');
        expect(await f(1)).toEqual({ id: 1, version: 4 });
        expect(f.stats).toMatchObject({ hits: 2, misses: 3, errors: 0 });
      });
    });

    describe('tags and clear()', () => {
      /** The record of `tag` in this test's namespace. */
      const tagKey = (tag: string): string => `${namespace}:tag|${tag}`;
      const ids = Array.from({ length: 12 }, (_, i) => i);

      /**
       * The commands of one batch read of `keys` (`getMany`): one MGET on one node; on a cluster one
       * command per slot, a GET for a slot holding one key and an MGET otherwise.
       */
      function readsOf(keys: string[], cluster: boolean): Record<string, number> {
        if (!cluster) return { mget: 1 };
        const perSlot = new Map<number, number>();
        for (const key of keys) perSlot.set(keySlot(key), (perSlot.get(keySlot(key)) ?? 0) + 1);
        const reads: Record<string, number> = {};
        for (const count of perSlot.values()) sum(reads, { [count === 1 ? 'get' : 'mget']: 1 });
        return reads;
      }

      /** Add the counts of `more` into `into`; returns `into`. */
      function sum(into: Record<string, number>, ...more: Array<Record<string, number>>): Record<string, number> {
        for (const counts of more) for (const [command, calls] of Object.entries(counts)) into[command] = (into[command] ?? 0) + calls;
        return into;
      }

      /** The commands every owning node ran for `call`, summed by name. */
      async function commandsOf(call: () => Promise<unknown>): Promise<Record<string, number>> {
        const nodes = topology().owningNodes();
        for (const node of nodes) await node.resetStats();
        await call();
        const total: Record<string, number> = {};
        for (const node of nodes) sum(total, await node.commandCalls());
        return total;
      }

      it('invalidateTags() removes the entries of every function carrying a tag, on every owning node, and leaves the others', async () => {
        const t = topology();
        const made = cache();
        const [product, price, other, plain] = [counting(), counting(), counting(), counting()];
        const fns = [
          cached(product.origin, { cache: made, name: 'product', ttl: '1m', tags: (id: number) => [`product:${id}`, 'catalog'] }),
          cached(price.origin, { cache: made, name: 'price', ttl: '1m', tags: ['catalog'] }),
          cached(other.origin, { cache: made, name: 'other', ttl: '1m', tags: ['other'] }),
          cached(plain.origin, { cache: made, name: 'plain', ttl: '1m' }),
        ];
        const owners = await Promise.all(fns.flatMap((f) => ids.map((id) => t.ownerOf(f.keyFor(id)))));
        expect(new Set(owners.map((node) => node.id)).size).toBe(t.owners);
        const callAll = () => Promise.all(fns.map((f) => Promise.all(ids.map((id) => f(id)))));
        const first = await callAll();
        expect(await callAll()).toEqual(first);
        const catalog = await t.ownerOf(tagKey('catalog'));
        const record = await catalog.get(tagKey('catalog'));
        expect(record).not.toBeNull();

        await made.invalidateTags(['catalog']);
        expect(await catalog.get(tagKey('catalog'))).not.toBe(record);
        const after = await callAll();
        expect([product.counter.runs, price.counter.runs, other.counter.runs, plain.counter.runs]).toEqual([24, 24, 12, 12]);
        for (const fn of [0, 1]) for (const value of after[fn]!) expect(value.run).toBeGreaterThan(12);
        expect(after.slice(2)).toEqual(first.slice(2));

        await made.invalidateTags(['product:3']);
        const last = await callAll();
        expect([product.counter.runs, price.counter.runs]).toEqual([25, 24]);
        expect(last[0]![3]).toEqual({ id: 3, run: 25 });
        expect(fns[0]!.stats).toMatchObject({ hits: 23, misses: 25, errors: 0 });
      });

      it('with { stale: true } serves the stale value under staleWhileRevalidate while one refresh replaces it; without a stale window, a miss', async () => {
        const made = cache();
        let version = 0;
        const f = cached(async (id: number) => ({ id, version: ++version }), { cache: made, name: 'f', ttl: '1m', staleWhileRevalidate: '1m', tags: ['t'] });
        const strict = counting();
        const g = cached(strict.origin, { cache: made, name: 'g', ttl: '1m', tags: ['t'] });
        await f(1);
        await g(1);
        const owner = await topology().ownerOf(f.keyFor(1));
        await made.invalidateTags(['t'], { stale: true });
        expect(await f(1)).toEqual({ id: 1, version: 1 });
        await waitFor('the background refresh to store version 2', async () => String(await owner.get(f.keyFor(1))).includes('"version":2'), LIMIT_MS);
        expect(await f(1)).toEqual({ id: 1, version: 2 });
        expect(version).toBe(2);
        expect(f.stats).toMatchObject({ stale: 1, hits: 1, misses: 1, errors: 0 });
        expect(await g(1)).toEqual({ id: 1, run: 2 });
      }, TEST_MS);

      it('f.clear() invalidates one function and cache.clear() all of the namespace: at once in the caller, at its next poll in another cache', async () => {
        const t = topology();
        // Polls only when the test says.
        const here = cache({ clearPollInterval: '1h' });
        const there = cache({ clearPollInterval: '1h' });
        const [a, b] = [counting(), counting()];
        const hereA = cached(a.origin, { cache: here, name: 'a', ttl: '1m' });
        const hereB = cached(b.origin, { cache: here, name: 'b', ttl: '1m', tags: ['x'] });
        const thereA = cached(a.origin, { cache: there, name: 'a', ttl: '1m' });
        const thereB = cached(b.origin, { cache: there, name: 'b', ttl: '1m', tags: ['x'] });
        const owners = await Promise.all([hereA, hereB].flatMap((f) => ids.map((id) => t.ownerOf(f.keyFor(id)))));
        expect(new Set(owners.map((node) => node.id)).size).toBe(t.owners);
        const each = (f: (id: number) => Promise<unknown>) => Promise.all(ids.map((id) => f(id)));
        for (const f of [hereA, hereB, thereA, thereB]) await each(f);
        expect([a.counter.runs, b.counter.runs]).toEqual([12, 12]);

        await hereA.clear();
        // The other cache has not read the new generation yet: within its poll interval, the old entries.
        await each(thereA);
        expect(a.counter.runs).toBe(12);
        await there.generations.poll();
        await each(thereA);
        expect(a.counter.runs).toBe(24);
        await each(hereA); // the values the other cache stored after its poll
        await each(hereB);
        expect([a.counter.runs, b.counter.runs]).toEqual([24, 12]);

        await here.clear();
        await each(hereA);
        await each(hereB);
        expect([a.counter.runs, b.counter.runs]).toEqual([36, 24]);
        await there.generations.poll();
        await each(thereA);
        await each(thereB);
        expect([a.counter.runs, b.counter.runs]).toEqual([36, 24]);
        expect(hereA.stats).toMatchObject({ hits: 12, misses: 24, errors: 0 });
        expect(thereA.stats).toMatchObject({ hits: 36, misses: 12, errors: 0 });
      });

      it('treats a tag record deleted or expired on its node as gone in every cache, never as fresh again', async () => {
        const t = topology();
        const { counter, origin } = counting();
        const options = { name: 'f', ttl: '1m', tags: ['shared'] } as const;
        const f = cached(origin, { cache: cache(), ...options });
        const g = cached(origin, { cache: cache(), ...options });
        await f(1);
        await f(2);
        expect(await g(1)).toEqual({ id: 1, run: 1 });
        const owner = await t.ownerOf(tagKey('shared'));

        // The first call after the loss creates the record again; the entries stamped before stay gone.
        expect(await owner.del(tagKey('shared'))).toBe(true);
        expect(await f(1)).toEqual({ id: 1, run: 3 });
        expect(await g(2)).toEqual({ id: 2, run: 4 });

        expect(await owner.pExpire(tagKey('shared'), 1)).toBe(true);
        await waitFor('the tag record to expire', async () => !(await owner.exists(tagKey('shared'))), LIMIT_MS, 5);
        expect(await g(1)).toEqual({ id: 1, run: 5 });
        expect(await f(2)).toEqual({ id: 2, run: 6 });
        expect(counter.runs).toBe(6);
        expect(f.stats).toMatchObject({ hits: 0, misses: 4, errors: 0 });
        expect(g.stats).toMatchObject({ hits: 1, misses: 2, errors: 0 });
      }, TEST_MS);

      it('costs one GET per untagged hit, and its GET plus one read of its tag records per tagged hit (one per record slot on a cluster)', async () => {
        const t = topology();
        const made = cache({ clearPollInterval: '1h' }); // no poll within a count
        const plain = cached(counting().origin, { cache: made, name: 'plain', ttl: '1m' });
        const one = cached(counting().origin, { cache: made, name: 'one', ttl: '1m', tags: ['solo'] });
        const three = cached(counting().origin, { cache: made, name: 'three', ttl: '1m', tags: ['a', 'b', 'c'] });
        await Promise.all([plain(1), one(1), three(1)]);
        expect(await commandsOf(() => plain(1))).toEqual({ get: 1 });
        // The entry's GET, and the records read together: one MGET on one node, one read per slot on a cluster.
        expect(await commandsOf(() => one(1))).toEqual(sum({ get: 1 }, readsOf([tagKey('solo')], t.owners > 1)));
        expect(await commandsOf(() => three(1))).toEqual(sum({ get: 1 }, readsOf(['a', 'b', 'c'].map(tagKey), t.owners > 1)));
        expect([plain.stats.hits, one.stats.hits, three.stats.hits]).toEqual([1, 1, 1]);
      });

      it('reads the tag records of a tagged many() with its entries, and invalidateTags() reaches many()', async () => {
        const t = topology();
        const made = cache({ clearPollInterval: '1h' });
        const { counter, origin } = counting();
        const f = cached(origin, { cache: made, name: 'f', ttl: '1m', tags: (id: number) => [`item:${id}`, 'all'] });
        const list = ids.map((id) => [id] as [number]);
        const first = await f.many(list);
        expect(counter.runs).toBe(12);
        const records = [...ids.map((id) => tagKey(`item:${id}`)), tagKey('all')];
        // The entries and the records, each read as one batch (one MGET on one node).
        const expected = sum(readsOf(ids.map((id) => f.keyFor(id)), t.owners > 1), readsOf(records, t.owners > 1));
        expect(await commandsOf(async () => expect(await f.many(list)).toEqual(first))).toEqual(expected);

        await made.invalidateTags(['all']);
        const after = await f.many(list);
        expect(counter.runs).toBe(24);
        expect(after.map((value) => value.id)).toEqual(ids);
        expect(f.stats).toMatchObject({ hits: 12, misses: 24, errors: 0 });
      });
    });


    describe('the in-process tier (l1)', () => {
      /** Call until the tier served the call (l1Hits grew), bounded; the value served. */
      async function untilHeld<T>(f: { (id: number): Promise<T>; stats: { l1Hits: number } }, id: number): Promise<T> {
        for (let i = 0; i < 200; i++) {
          const before = f.stats.l1Hits;
          const value = await f(id);
          if (f.stats.l1Hits > before) return value;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error('the tier never served the call');
      }

      it('serves keys of every owning node from the tier, drops them on a change elsewhere, and extends on the owning master', async () => {
        const t = topology();
        const a = cache({ l1: { maxEntries: 1000 } });
        const b = cache({ l1: { maxEntries: 1000 } });
        await Promise.all([a.connect(), b.connect()]);
        const { counter, origin } = counting();
        const fa = cached(origin, { cache: a, name: 'f', ttl: '1m' });
        const fb = cached(origin, { cache: b, name: 'f', ttl: '1m' });
        const ids = Array.from({ length: 12 }, (_, i) => i);
        const owners = await Promise.all(ids.map((id) => t.ownerOf(fa.keyFor(id))));
        expect(new Set(owners.map((node) => node.id)).size).toBe(t.owners);
        await waitUntil(() => a.health().l1?.state === 'ready' && b.health().l1?.state === 'ready');
        for (const id of ids) await fa(id);
        const held = await Promise.all(ids.map((id) => untilHeld(fb, id)));
        // A write on every node, from the other cache: each copy is dropped.
        for (const id of ids) await fa.refresh(id);
        for (const [i, id] of ids.entries()) {
          await waitUntil(async () => (await fb(id)).run !== held[i]!.run);
        }
        expect(counter.runs).toBe(2 * ids.length);
        // A per-call ttl on tier hits reaches the master owning each key.
        for (const id of ids) await untilHeld(fb, id);
        for (const id of ids) await fb(id, { ttl: '1h' });
        for (const [i, id] of ids.entries()) await waitUntil(async () => (await owners[i]!.pTTL(fb.keyFor(id))) > 60_000);
        expect(fb.stats.errors + fa.stats.errors).toBe(0);
      });
    });

    manySuite(`redis (${name})`, () => ({
      cache: () => cache(),
      async ttlOf(key) {
        const pttl = await (await topology().ownerOf(key)).pTTL(key);
        return pttl < 0 ? undefined : pttl;
      },
      async operations() {
        let calls = 0;
        for (const node of topology().owningNodes()) calls += await node.dataCommands();
        return calls;
      },
    }));
  });
}
