/**
 * Limits every duration and size option honours or refuses (0.3): timers Node would clamp, TTLs the
 * entry header cannot hold, memory stores too large to allocate, URLs node-redis would misread, and
 * signals that are not AbortSignals. Each is refused with a CacheConfigError that names the field.
 */
import { describe, expect, it } from '@jest/globals';
import { MAX_TIMER_MS, MAX_TTL_MS, cached, createCache } from '../lib/index.js';
import type { CacheConfigError } from '../lib/index.js';
import { configError, rejection } from './helpers/throws.js';

/** Every string property of an error and its issues, to search for a secret. */
function everyText(error: CacheConfigError): string {
  return [error.message, error.stack ?? '', error.field, ...error.issues.flatMap((i) => [i.path, i.message])].join('\n');
}

const cache = createCache();

describe('timeouts a timer cannot hold', () => {
  it.each([MAX_TIMER_MS + 1, Infinity, '30d', 2 ** 32])('refuses a function timeout of %p', (timeout) => {
    const error = configError(() => cached(async () => 1, { cache, name: 'f', timeout: timeout as never }));
    expect(error.field).toBe('timeout');
    expect(error.message).toContain(`at most ${MAX_TIMER_MS} ms`);
  });

  it.each([
    [{ hard: '30d' }, 'timeout.hard'],
    [{ soft: MAX_TIMER_MS + 1 }, 'timeout.soft'],
  ])('refuses %p and names the field', (timeout, field) => {
    const error = configError(() => cached(async () => 1, { cache, name: 'f', timeout: timeout as never }));
    expect(error.message).toMatch(/^cachette: timeout(\.hard|\.soft)?: /);
    expect(error.issues.map((i) => i.path)).toContain(field);
  });

  it('accepts a timeout of exactly 2^31-1 ms', () => {
    expect(() => cached(async () => 1, { cache, name: 'f', timeout: { soft: 0, hard: MAX_TIMER_MS } })).not.toThrow();
  });

  it('refuses a per-call timeout past 2^31-1 ms', async () => {
    const f = cached(async (id: number) => id, { cache, name: 'perCallTimeout' });
    const error = await rejection(() => f(1, { timeout: '25d' }));
    expect(error.message).toMatch(/^cachette: callOptions\.timeout: /);
  });
});

describe('TTLs the entry header cannot hold', () => {
  it.each([1e16, MAX_TTL_MS + 1, '1000000000d'])('refuses a function ttl of %p', (ttl) => {
    const error = configError(() => cached(async () => 1, { cache, name: 'f', ttl: ttl as never }));
    expect(error.field).toBe('ttl');
    expect(error.message).toContain('use Infinity');
  });

  it('accepts Infinity and the largest finite ttl', () => {
    expect(() => cached(async () => 1, { cache, name: 'f', ttl: Infinity })).not.toThrow();
    expect(() => cached(async () => 1, { cache, name: 'f', ttl: MAX_TTL_MS })).not.toThrow();
  });

  it('refuses a stale window past the limit (and Infinity)', () => {
    expect(configError(() => cached(async () => 1, { cache, name: 'f', ttl: 1, staleWhileRevalidate: 1e16 })).field).toBe('staleWhileRevalidate');
    expect(configError(() => cached(async () => 1, { cache, name: 'f', ttl: 1, staleIfError: Infinity })).field).toBe('staleIfError');
  });

  it('refuses a per-call ttl past the limit instead of missing on every call', async () => {
    let runs = 0;
    const f = cached(
      async (id: number) => {
        runs++;
        return id;
      },
      { cache, name: 'perCallTtl' },
    );
    const error = await rejection(() => f(1, { ttl: 1e16 }));
    expect(error.field).toBe('callOptions.ttl');
    expect(runs).toBe(0);
    await f(1, { ttl: MAX_TTL_MS });
    await f(1, { ttl: MAX_TTL_MS });
    expect(f.stats).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('memory store size', () => {
  it.each([2 ** 31, 2 ** 32, 1e12])('refuses maxEntries %p with a CacheConfigError, not a RangeError', (maxEntries) => {
    const error = configError(() => createCache({ store: { type: 'memory', maxEntries } }));
    expect(error.field).toBe('store.maxEntries');
    expect(error.message).toContain('at most 2147483647');
  });
});

describe('redis URLs node-redis would misread', () => {
  const password = 'S3cr#t/pa?ss';
  it.each([
    [`redis://:${password}@localhost:6379`, 'an unescaped # ? / in the password'],
    [`redis://user:${password}@localhost:6379/0`, 'the same with a user'],
    ['redis://:p%zzSECRETVALUE@localhost:6379', 'a malformed %-escape'],
    ['redis://:SECRETVALUE@:6379', 'no host'],
    ['redis://:SECRETVALUE@localhost:6379/db1', 'a database that is not a number'],
    ['redis://:SECRET VALUE@local host', 'a space in the host'],
  ])('refuses %s (%s) without any part of the password', (url) => {
    const error = configError(() => createCache({ store: { type: 'redis', url } }));
    expect(error.field).toBe('store.url');
    expect(error.message).toContain('percent-encode');
    const text = everyText(error);
    for (const part of ['S3cr', 'pa?ss', 'SECRET', 'VALUE', 'zz']) expect(text).not.toContain(part);
    expect(error.cause).toBeUndefined();
  });

  it('accepts a percent-encoded password', async () => {
    const made = createCache({ store: { type: 'redis', url: `redis://:${encodeURIComponent(password)}@localhost:6379/2` } });
    expect(made.store.name).toBe('redis');
    await made.close();
  });
});

describe('signals', () => {
  it('refuses a per-call signal without removeEventListener', async () => {
    const f = cached(async (id: number) => id, { cache, name: 'signals' });
    const fake = { aborted: false, addEventListener: () => undefined };
    const error = await rejection(() => f.callWith({ signal: fake as unknown as AbortSignal }, 1));
    expect(error.field).toBe('callOptions.signal');
    expect(error.message).toContain('expected an AbortSignal');
  });

  it('accepts a real AbortSignal', async () => {
    const f = cached(async (id: number) => id * 2, { cache, name: 'realSignal' });
    await expect(f.callWith({ signal: new AbortController().signal }, 2)).resolves.toBe(4);
  });
});
