import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import { MemoryStore } from '../lib/stores/memory.js';

const quiet = { warn() {}, error() {} };
const memoryCache = () => createCache({ store: { type: 'memory' }, logger: quiet });

afterEach(() => {
  jest.restoreAllMocks();
});

describe('memory store hits', () => {
  it('hands every hit a copy of its own: nested objects, arrays, arrays of objects', async () => {
    const f = cached(async () => ({ user: { name: 'a', roles: ['r'] }, grid: [[1], [2]], items: [{ n: 1 }] }), { cache: memoryCache(), name: 'nested' });
    await f();
    const first = await f();
    first.user.name = 'changed';
    first.user.roles.push('x');
    first.grid[0]!.push(9);
    first.items[0]!.n = 7;
    first.items.push({ n: 2 });
    const second = await f();
    expect(second).toEqual({ user: { name: 'a', roles: ['r'] }, grid: [[1], [2]], items: [{ n: 1 }] });
    expect(second).not.toBe(first);
    expect(f.stats).toMatchObject({ hits: 2, misses: 1 });
  });

  it('copies a top-level array whose items are all primitives', async () => {
    const f = cached(async () => [1, 'two', null, true], { cache: memoryCache(), name: 'flat' });
    await f();
    (await f()).push(5);
    expect(await f()).toEqual([1, 'two', null, true]);
  });

  it('keeps an own "__proto__" key an own property, never the prototype', async () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const f = cached(async () => value, { cache: memoryCache(), name: 'proto' });
    await f();
    const hit = (await f()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(hit)).toBe(Object.prototype);
    expect(Object.keys(hit)).toEqual(['__proto__', 'a']);
    expect(hit.polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(hit, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('gives a Date result (a tagged entry) a new Date on every hit', async () => {
    const f = cached(async () => ({ at: new Date(0) }), { cache: memoryCache(), name: 'date' });
    await f();
    const first = await f();
    first.at.setTime(5);
    expect((await f()).at.getTime()).toBe(0);
  });

  it('serves primitives and null as they were stored', async () => {
    const values: unknown[] = ['text', 0, -1.5, false, null, undefined];
    for (const [i, value] of values.entries()) {
      const f = cached(async () => value, { cache: memoryCache(), name: `p${i}` });
      await f();
      expect(await f()).toBe(value);
      expect(f.stats.hits).toBe(1);
    }
  });

  it('parses a stored entry once, however many hits read it', async () => {
    const f = cached(async (id: number) => ({ id }), { cache: memoryCache(), name: 'once' });
    await f(1);
    const parse = jest.spyOn(JSON, 'parse');
    expect([await f(1), await f(1), await f(1)]).toEqual([{ id: 1 }, { id: 1 }, { id: 1 }]);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('parses again after the entry was replaced', async () => {
    let run = 0;
    const f = cached(async () => ({ run: ++run }), { cache: memoryCache(), name: 'again' });
    await f();
    expect(await f()).toEqual({ run: 1 });
    await f.refresh();
    expect(await f()).toEqual({ run: 2 });
  });

  it('never serves what one serializer decoded to a cache with another serializer on the same store', async () => {
    const store = new MemoryStore();
    const marking: Serializer = {
      name: 'json',
      serialize: (value) => JSON.stringify(value),
      deserialize: (raw) => ({ ...(JSON.parse(String(raw)) as object), via: 'marking' }),
    };
    const a = cached(async () => ({ id: 1 }), { cache: createCache({ store, serializer: jsonSerializer, logger: quiet }), name: 'shared' });
    const b = cached(async () => ({ id: 2 }), { cache: createCache({ store, serializer: marking, logger: quiet }), name: 'shared' });
    await a();
    expect(await a()).toEqual({ id: 1 });
    expect(await b()).toEqual({ id: 1, via: 'marking' });
    expect(await a()).toEqual({ id: 1 });
  });
});

describe('memory store maxBytes through createCache', () => {
  function recordingLogger() {
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    return { lines, warn: (fields: Record<string, unknown>, message: string) => void lines.push({ fields, message }), error() {} };
  }

  it('returns a result larger than maxBytes without caching it, counted and reported without the value', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'memory', maxBytes: 200 }, logger });
    let runs = 0;
    const f = cached(async (size: number) => `SECRET-${++runs}-${'x'.repeat(size)}`, { cache, name: 'big' });
    expect(await f(500)).toMatch(/^SECRET-1-x+$/);
    expect(await f(500)).toMatch(/^SECRET-2-x+$/);
    expect(await f(10)).toMatch(/^SECRET-3-x+$/);
    expect(await f(10)).toMatch(/^SECRET-3-x+$/);
    expect(f.stats).toMatchObject({ misses: 3, hits: 1, errors: 2 });
    expect(logger.lines.map((l) => [l.fields.kind, l.message])).toEqual([
      ['write', 'cachette: cache write failed'],
      ['write', 'cachette: cache write failed'],
    ]);
    expect(JSON.stringify(logger.lines.map((l) => [l.message, String((l.fields.err as Error).message)]))).not.toContain('SECRET');
    expect((cache.store as MemoryStore).bytes).toBeGreaterThan(0);
  });
});
