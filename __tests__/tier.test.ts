/**
 * The tier's rules, made deterministic with a store whose key watch the test drives by hand (a
 * memory store underneath, reads that wait for the test, changes announced when the test says): a
 * change or a flush that arrives while a fill's read is in flight voids the fill; this process's own
 * writes drop its copy without waiting for the announcement; nothing is served while the watch is not
 * ready; a changed clear generation holds the tier until it is re-read.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cached, createCache, MemoryStore, type Cache, type KeyWatch, type KeyWatchListener, type KeyWatchState, type Store } from '../lib/index.js';
import { deferred, flush, type Deferred } from './helpers/deferred.js';

/** A memory store with `getWithExpiry` and a key watch that announces only what the test tells it to. */
class ManualWatchStore implements Store {
  readonly name = 'manual';
  readonly memory = new MemoryStore();
  listener: KeyWatchListener | undefined;
  /** When set, `getWithExpiry` waits for it before answering (a read in flight). */
  gate: Deferred<void> | undefined;
  reads = 0;
  /** Keys read with a plain `get` (what `f.many()` reads with here). */
  gets: string[] = [];
  watch: KeyWatch & { state: KeyWatchState } = {
    state: 'connecting',
    expire: async (key, ttlMs) => {
      const value = this.memory.get(key);
      if (value === undefined) return false;
      this.memory.set(key, value, ttlMs);
      return true;
    },
    close: async () => {},
  };
  get(key: string) {
    this.gets.push(key);
    return this.memory.get(key);
  }
  set(key: string, value: string | Uint8Array, ttlMs: number | undefined) {
    this.memory.set(key, value, ttlMs);
  }
  delete(key: string) {
    return this.memory.delete(key);
  }
  setIfAbsent(key: string, value: string | Uint8Array, ttlMs: number) {
    return this.memory.setIfAbsent(key, value, ttlMs);
  }
  replaceIfEquals(key: string, expected: string | Uint8Array, value: string | Uint8Array) {
    return this.memory.replaceIfEquals(key, expected, value);
  }
  async getWithExpiry(key: string): Promise<readonly [string | Uint8Array | undefined, number | undefined]> {
    this.reads++;
    const answer = [this.memory.get(key), this.memory.ttlOf(key)] as const;
    if (this.gate !== undefined) await this.gate.promise;
    return [answer[0], answer[1] === Infinity ? undefined : answer[1]];
  }
  watchKeys(_prefix: string, listener: KeyWatchListener): KeyWatch {
    this.listener = listener;
    return this.watch;
  }
  setState(state: KeyWatchState): void {
    this.watch.state = state;
    this.listener?.state(state);
  }
}

let caches: Cache[] = [];
afterEach(async () => {
  await Promise.all(caches.map((cache) => cache.close()));
  caches = [];
});

function setup(): { store: ManualWatchStore; cache: Cache } {
  const store = new ManualWatchStore();
  const cache = createCache({ store, namespace: 'ns', l1: { maxEntries: 100 } });
  caches.push(cache);
  store.setState('ready');
  return { store, cache };
}

describe('the tier (driven watch)', () => {
  it('keeps a fill only when no change of its key arrived while it was read', async () => {
    const { store, cache } = setup();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'f', ttl: '1m' });
    await f(); // miss, written
    store.gate = deferred<void>();
    const reading = f(); // the read is in flight
    await flush();
    store.listener?.changed(f.keyFor()); // the change arrives before the answer
    store.gate.resolve();
    expect(await reading).toBe(1);
    expect(cache.health().l1?.entries).toBe(0);
    store.gate = undefined;
    await f(); // a read with nothing announced meanwhile is kept
    expect(cache.health().l1?.entries).toBe(1);
    const before = f.stats.l1Hits;
    await f();
    expect(f.stats.l1Hits).toBe(before + 1);
  });

  it('voids the fills in flight when the watch leaves ready', async () => {
    const { store, cache } = setup();
    const f = cached(async () => 1, { cache, name: 'f', ttl: '1m' });
    await f();
    store.gate = deferred<void>();
    const reading = f();
    await flush();
    store.setState('down');
    store.setState('ready');
    store.gate.resolve();
    await reading;
    expect(cache.health().l1).toMatchObject({ entries: 0, flushes: 1 });
  });

  it("serves nothing while the watch is not ready, and empties itself on leaving ready", async () => {
    const { store, cache } = setup();
    const f = cached(async () => 1, { cache, name: 'f', ttl: '1m' });
    await f();
    await f();
    expect(cache.health().l1?.entries).toBe(1);
    store.setState('down');
    expect(cache.health().l1).toMatchObject({ state: 'down', entries: 0 });
    const reads = store.reads;
    for (let i = 0; i < 5; i++) await f();
    expect(f.stats.l1Hits).toBe(0);
    expect(store.reads).toBe(reads); // not ready: plain store reads, no fills
    store.setState('ready');
    await f();
    await f();
    expect(f.stats.l1Hits).toBe(1);
  });

  it("drops this process's copy at once on its own write and invalidate (before any announcement)", async () => {
    const { cache } = setup();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'own', ttl: '1m' });
    await f();
    await f();
    expect(cache.health().l1?.entries).toBe(1);
    await f.invalidate();
    expect(cache.health().l1?.entries).toBe(0);
    expect(await f()).toBe(2);
    await f();
    expect(cache.health().l1?.entries).toBe(1);
    await f({ forceRefresh: true });
    expect(cache.health().l1?.entries).toBe(0);
    expect(await f()).toBe(3);
  });

  it('drops held tag records on its own invalidateTags, so tagged hits re-read them', async () => {
    const { cache } = setup();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'tagged', ttl: '1m', tags: (id: number) => [`t:${id}`] });
    await f(1);
    await f(1);
    const held = f.stats.l1Hits;
    await f(1);
    expect(f.stats.l1Hits).toBe(held + 1);
    await cache.invalidateTags(['t:1']);
    expect((await f(1)).run).toBe(2);
  });

  it('holds the tier while a clear generation announced as changed is re-read', async () => {
    const { store, cache } = setup();
    let runs = 0;
    const f = cached(async () => ++runs, { cache, name: 'gen', ttl: '1m' });
    await f();
    await f();
    // Another process cleared the namespace: its generation record changed in the store.
    await store.memory.delete('ns|gen');
    store.listener?.changed('ns|gen');
    expect((await f()).valueOf()).toBe(2); // not served from the tier, and the old entry is gone
  });

  it('answers the items of many() the tier holds from it, and reads only the others', async () => {
    const { store, cache } = setup();
    let runs = 0;
    const f = cached(async (id: number) => ({ id, run: ++runs }), { cache, name: 'many', ttl: '1m' });
    await f(1);
    await f(2);
    await f(1);
    await f(2); // both held now
    expect(cache.health().l1?.entries).toBe(2);
    store.gets = [];
    const l1Hits = f.stats.l1Hits;
    const values = await f.many([[1], [2], [3], [1]]);
    expect(values.map((v) => v.id)).toEqual([1, 2, 3, 1]);
    expect(f.stats.l1Hits).toBe(l1Hits + 2);
    expect(store.gets.filter((key) => !key.includes('|'))).toEqual([f.keyFor(3)]);
    expect(runs).toBe(3);
    expect(f.stats).toMatchObject({ errors: 0 });
  });

  it('a per-call ttl on a tier hit is sent once per key at a time, the newest last', async () => {
    const { store, cache } = setup();
    const sent: number[] = [];
    const gate = deferred<void>();
    store.watch.expire = async (_key, ttlMs) => {
      sent.push(ttlMs);
      await gate.promise;
      return true;
    };
    const f = cached(async () => 1, { cache, name: 'sliding', ttl: '10s' });
    await f();
    await f();
    await f({ ttl: '1m' });
    await f({ ttl: '2m' });
    await f({ ttl: '3m' });
    // Each reaches a sixteenth further than asked, so the hits just after it need none.
    expect(sent).toEqual([63_750]);
    gate.resolve();
    await cache.close();
    expect(sent).toEqual([63_750, 191_250]);
  });

  it('sends no extension while the entry is known to live in the store at least the ttl asked', async () => {
    const { store, cache } = setup();
    const sent: number[] = [];
    store.watch.expire = async (_key, ttlMs) => {
      sent.push(ttlMs);
      return true;
    };
    const f = cached(async () => 1, { cache, name: 'known', ttl: '10m' });
    await f();
    await f(); // held, with the 10 minutes the store answered
    for (let i = 0; i < 20; i++) await f({ ttl: '5m' });
    expect(sent).toEqual([]);
    await f({ ttl: '20m' });
    await flush();
    expect(sent).toEqual([1_275_000]);
    for (let i = 0; i < 20; i++) await f({ ttl: '20m' }); // within the sixteenth: known to live long enough
    expect(sent).toEqual([1_275_000]);
    expect(f.stats.l1Hits).toBe(41);
  });
});
