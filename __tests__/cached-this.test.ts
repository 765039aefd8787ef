import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { fakeClock } from './helpers/fake-clock.js';
import { deferred, flush } from './helpers/deferred.js';

const quiet = { warn() {}, error() {} };
const memoryCache = () => createCache({ store: { type: 'memory' }, logger: quiet });

interface Repo {
  label: string;
  get?: unknown;
}

/** An origin that records the `this` of every run and answers with its label. */
function recordingOrigin(): { origin: (this: unknown, id: number) => Promise<string>; seen: unknown[] } {
  const seen: unknown[] = [];
  const origin = async function get(this: unknown, id: number): Promise<string> {
    seen.push(this);
    return `${(this as Repo | undefined)?.label ?? 'none'}:${id}`;
  };
  return { origin, seen };
}

describe('this', () => {
  it('is the object a cached method is called on', async () => {
    const { origin, seen } = recordingOrigin();
    const repo = { label: 'users', get: cached(origin, { cache: memoryCache() }) };
    expect(await repo.get(1)).toBe('users:1');
    expect(seen).toEqual([repo]);
  });

  it('is undefined for an unbound call, never the cache internals', async () => {
    const { origin, seen } = recordingOrigin();
    const get = cached(origin, { cache: memoryCache() });
    expect(await get(1)).toBe('none:1');
    expect(seen).toEqual([undefined]);
  });

  it('is forwarded with call options, on a bypass, a forced refresh and a stale-while-revalidate refresh', async () => {
    const clock = fakeClock();
    const cache = createCache({ store: { type: 'memory' }, logger: quiet, clock });
    const { origin, seen } = recordingOrigin();
    const repo = { label: 'r', get: cached(origin, { cache, ttl: 1000, staleWhileRevalidate: 1000 }) };
    await repo.get(1, { bypassCache: true });
    await repo.get(1, { forceRefresh: true });
    clock.advance(1500); // stale: served, and refreshed in the background with the caller's this
    expect(await repo.get(1)).toBe('r:1');
    await flush();
    expect(seen).toEqual([repo, repo, repo]);
  });

  it('is forwarded through the miss lock', async () => {
    const { origin, seen } = recordingOrigin();
    const repo = { label: 'locked', get: cached(origin, { cache: memoryCache(), lock: true }) };
    expect(await repo.get(2)).toBe('locked:2');
    expect(seen).toEqual([repo]);
  });

  it('is forwarded by callWith and refresh when they are called on an object, and undefined on f.callWith()', async () => {
    const { origin, seen } = recordingOrigin();
    const get = cached(origin, { cache: memoryCache() });
    const repo: Repo = { label: 'helper' };
    expect(await get.callWith.call(repo, { forceRefresh: true }, 1)).toBe('helper:1');
    expect(await get.refresh.call(repo, 1)).toBe('helper:1');
    expect(await get.callWith({ forceRefresh: true }, 1)).toBe('none:1');
    expect(await get.refresh(1)).toBe('none:1');
    expect(seen).toEqual([repo, repo, undefined, undefined]);
  });

  it('is not part of the key: callers with different this share one entry and one flight', async () => {
    const gate = deferred<void>();
    const seen: unknown[] = [];
    const method = cached(
      async function load(this: { label: string }, id: number): Promise<string> {
        seen.push(this);
        await gate.promise;
        return `${this.label}:${id}`;
      },
      { cache: memoryCache() },
    );
    const first = { label: 'first', get: method };
    const second = { label: 'second', get: method };
    const calls = [first.get(1), second.get(1)];
    await flush();
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(['first:1', 'first:1']);
    expect(await second.get(1)).toBe('first:1');
    expect(seen).toEqual([first]);
    expect(method.keyFor(1)).toBe('load:1');
  });
});
