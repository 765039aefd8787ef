import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { CacheConfigError, CacheKeyError } from '../lib/errors.js';
import type { MemoryStore } from '../lib/stores/memory.js';
import { deferred, flush } from './helpers/deferred.js';

const quiet = { warn() {}, error() {} };
const memoryCache = (namespace?: string) => createCache({ store: { type: 'memory' }, logger: quiet, namespace });

describe('version', () => {
  it('is part of every key', () => {
    const f = cached(async (id: number) => id, { cache: memoryCache('app'), name: 'f', version: 3 });
    expect(f.keyFor(1)).toBe('app:f:v3:1');
    expect(cached(async () => 1, { cache: memoryCache('app'), name: 'g', version: 3 }).keyFor()).toBe('app:g:v3');
  });

  it('orphans entries written under another version', async () => {
    const cache = memoryCache();
    let runs = 0;
    const v1 = cached(async (id: number) => `v1:${id}:${++runs}`, { cache, name: 'product', version: 1 });
    const v2 = cached(async (id: number) => `v2:${id}:${++runs}`, { cache, name: 'product', version: 2 });
    expect(await v1(1)).toBe('v1:1:1');
    expect(await v2(1)).toBe('v2:1:2');
    expect(await v1(1)).toBe('v1:1:1');
    expect(runs).toBe(2);
  });
});

describe('sharedContext', () => {
  it('lets two functions with the same context share entries', async () => {
    const cache = memoryCache();
    let runsA = 0;
    let runsB = 0;
    const a = cached(async (id: number) => `a${id}:${++runsA}`, { cache, name: 'a', sharedContext: 'users' });
    const b = cached(async (id: number) => `b${id}:${++runsB}`, { cache, name: 'b', sharedContext: 'users' });
    expect(a.keyFor(1)).toBe('users:1');
    expect(b.keyFor(1)).toBe(a.keyFor(1));
    expect(await a(1)).toBe('a1:1');
    expect(await b(1)).toBe('a1:1');
    expect([runsA, runsB]).toEqual([1, 0]);
    expect(await b.invalidate(1)).toBe(true);
    expect(await b(1)).toBe('b1:1');
  });

  it('makes concurrent calls of both functions share one origin run', async () => {
    const cache = memoryCache();
    const gate = deferred<string>();
    let runs = 0;
    const a = cached(async (id: number) => (runs++, gate.promise.then((v) => `${v}${id}`)), { cache, name: 'a', sharedContext: 'ctx' });
    const b = cached(async (id: number) => (runs++, `b${id}`), { cache, name: 'b', sharedContext: 'ctx' });
    const calls = [a(1), b(1)];
    await flush();
    gate.resolve('a');
    expect(await Promise.all(calls)).toEqual(['a1', 'a1']);
    expect(runs).toBe(1);
    expect(b.stats.coalesced).toBe(1);
  });

  it('keeps functions with different contexts apart', async () => {
    const cache = memoryCache();
    const a = cached(async () => 'a', { cache, name: 'same', sharedContext: 'one' });
    const b = cached(async () => 'b', { cache, name: 'same', sharedContext: 'two' });
    expect(await a()).toBe('a');
    expect(await b()).toBe('b');
  });
});

describe('key (a fixed key)', () => {
  it('gives every call one entry, whatever the arguments', async () => {
    const cache = memoryCache('app');
    let runs = 0;
    const f = cached(async (id: number) => `${id}:${++runs}`, { cache, name: 'f', key: 'config' });
    expect(f.keyFor(1)).toBe('app:config');
    expect(f.keyFor(2)).toBe('app:config');
    expect(await f(1)).toBe('1:1');
    expect(await f(2)).toBe('1:1');
    expect(runs).toBe(1);
    expect((cache.store as MemoryStore).get('app:config')).toBeDefined();
  });

  it('takes the key prefix and version around it', () => {
    const f = cached(async () => 1, { cache: memoryCache('app'), name: 'f', key: 'settings', keyPrefix: 'svc', version: 2 });
    expect(f.keyFor()).toBe('app:svc:settings:v2');
  });

  it('accepts arguments that would have no key encoding', async () => {
    const f = cached(async (callback: () => number) => callback(), { cache: memoryCache(), name: 'f', key: 'fixed' });
    expect(await f(() => 42)).toBe(42);
    expect(await f(() => 0)).toBe(42);
  });
});

describe('keyBuilder', () => {
  it('builds the argument part of the key from the typed arguments (product:{id}:ver{version})', async () => {
    const cache = memoryCache('shop');
    const seen: unknown[] = [];
    let runs = 0;
    const getProduct = cached(async (id: number, version: number) => ({ id, version, run: ++runs }), {
      cache,
      name: 'getProduct',
      keyBuilder: (id, version) => {
        seen.push([id, version]);
        return `product:${id}:ver${version}`;
      },
    });
    expect(getProduct.keyFor(7, 2)).toBe('shop:getProduct:product:7:ver2');
    await getProduct(7, 2);
    await getProduct(7, 2);
    await getProduct(7, 3);
    expect(runs).toBe(2);
    expect(seen).toContainEqual([7, 2]);
    expect((cache.store as MemoryStore).get('shop:getProduct:product:7:ver2')).toBeDefined();
  });

  it('lets a function take arguments that have no key encoding', async () => {
    const f = cached(async (user: { id: number; onChange: () => void }) => user.id, {
      cache: memoryCache(),
      name: 'f',
      keyBuilder: (user) => `user:${user.id}`,
    });
    expect(await f({ id: 3, onChange: () => {} })).toBe(3);
    expect(f.keyFor({ id: 3, onChange: () => {} })).toBe('f:user:3');
  });

  it('is given the arguments without the call options', async () => {
    const seen: unknown[][] = [];
    const f = cached(async (id: number, region?: string) => `${id}${region ?? ''}`, {
      cache: memoryCache(),
      name: 'f',
      keyBuilder: (...args) => {
        seen.push(args);
        return args.join('/');
      },
    });
    await f(1, { bypassCache: true, cacheWrite: true });
    await f(1, 'eu', { ttl: '1m' });
    expect(seen).toEqual([[1], [1, 'eu']]);
  });

  it('bounds a long built key like any other', () => {
    const f = cached(async (text: string) => text, { cache: memoryCache(), name: 'f', keyBuilder: (text) => text });
    expect(f.keyFor('x'.repeat(5000)).length).toBeLessThanOrEqual(256 + 44);
  });

  it('rejects the call (and keyFor) with a CacheKeyError when it returns something other than a string', async () => {
    let runs = 0;
    const f = cached(async (id: number) => (runs++, id), { cache: memoryCache(), name: 'f', keyBuilder: ((id: number) => (id > 1 ? null : id)) as never });
    const error = await f(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheKeyError);
    expect(error).not.toBeInstanceOf(CacheConfigError);
    expect((error as Error).message).toBe('cachette: keyBuilder must return a string, returned number');
    expect(() => f.keyFor(2)).toThrow(new CacheKeyError('cachette: keyBuilder must return a string, returned null'));
    expect(runs).toBe(0);
  });
});

describe('namespace and keyPrefix', () => {
  it('puts the cache namespace first', () => {
    expect(cached(async () => 1, { cache: memoryCache('app'), name: 'f' }).keyFor()).toBe('app:f');
  });

  it('lets a function override the namespace', () => {
    expect(cached(async () => 1, { cache: memoryCache('app'), name: 'f', namespace: 'other' }).keyFor()).toBe('other:f');
    expect(cached(async () => 1, { cache: memoryCache(), name: 'f', namespace: 'own' }).keyFor()).toBe('own:f');
  });

  it('adds the key prefix between the namespace and the name', () => {
    const f = cached(async (id: number) => id, { cache: memoryCache('app'), name: 'f', keyPrefix: 'billing' });
    expect(f.keyFor(1)).toBe('app:billing:f:1');
  });

  it('keeps two namespaces apart on one store', async () => {
    const cache = memoryCache('one');
    const a = cached(async () => 'a', { cache, name: 'f' });
    const b = cached(async () => 'b', { cache, name: 'f', namespace: 'two' });
    expect(await a()).toBe('a');
    expect(await b()).toBe('b');
  });
});
