/**
 * The `schema` option on the memory store, with an injected clock: every value served from the cache
 * (hits, copies of the memory store's decoded entries, stale values, fallbacks, `many()` items, a
 * lock waiter's value) is the schema's output; an entry that fails it is a counted, reported miss;
 * the origin's own result is checked too. Sync and async schemas, zod 4 and a hand-written one.
 */
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { cached, CacheConfigError, CacheSchemaError, createCache, MemoryStore, type StandardSchema } from '../lib/index.js';
import { fakeClock } from './helpers/fake-clock.js';
import { setup } from './helpers/schema-cache.js';

const SECRET = 'value-7f3a';
const User = z.object({ id: z.number(), name: z.string() });
/** The old deploy's shape: `fullName` where the new one has `name`. */
const oldUser = async (id: number) => ({ id, fullName: SECRET });
const newUser = async (id: number) => ({ id, name: `user ${id}` });

describe('schema options', () => {
  it('refuses a schema that is not a Standard Schema, and migrate without a schema', () => {
    const { cache } = setup();
    expect(() => cached(newUser, { cache, name: 'u', schema: { parse: () => 1 } as never })).toThrow(CacheConfigError);
    expect(() => cached(newUser, { cache, name: 'u', schema: { parse: () => 1 } as never })).toThrow(/^cachette: schema: expected a Standard Schema/);
    expect(() => cached(newUser, { cache, name: 'u', migrate: (old: unknown) => old } as never)).toThrow(/^cachette: migrate: needs a schema/);
  });
});

describe('a value read from the cache', () => {
  it("serves the schema's output on every hit, each hit its own copy", async () => {
    const { cache } = setup();
    const Stamped = z.object({ id: z.number(), at: z.string().transform((text) => new Date(text)) });
    let runs = 0;
    const f = cached(async (id: number) => (runs++, { id, at: '2024-01-15T10:30:00.000Z' }), { cache, name: 'stamped', ttl: '1m', schema: Stamped });
    const fresh = await f(1);
    const first = await f(1);
    const second = await f(1);
    expect(runs).toBe(1);
    for (const value of [fresh, first, second]) expect(value.at).toBeInstanceOf(Date);
    expect(first).not.toBe(second);
    first.at.setFullYear(1999);
    expect((await f(1)).at.getFullYear()).toBe(2024);
    expect(f.stats).toMatchObject({ hits: 3, misses: 1, invalid: 0, errors: 0 });
  });

  it('treats an entry that fails the schema as a miss: recomputed, overwritten, counted, reported without the value', async () => {
    const { cache, reports } = setup();
    const before = cached(oldUser, { cache, name: 'getUser', ttl: '1h' });
    await before(1);
    const after = cached(newUser, { cache, name: 'getUser', ttl: '1h', schema: User });
    expect(await after(1)).toEqual({ id: 1, name: 'user 1' });
    expect(await after(1)).toEqual({ id: 1, name: 'user 1' }); // overwritten: a hit now
    expect(after.stats).toMatchObject({ hits: 1, misses: 1, invalid: 1, errors: 0 });
    expect(reports).toHaveLength(1);
    const [{ fields, message }] = reports as [(typeof reports)[number]];
    expect(fields).toMatchObject({ kind: 'schema', fn: 'getUser', store: 'memory' });
    expect(fields.err).toBeInstanceOf(CacheSchemaError);
    expect(fields.err).toMatchObject({ fn: 'getUser', paths: ['name'] });
    expect((fields.err as Error).message).toBe('cachette: getUser: a cached value does not match the schema (at name)');
    expect(JSON.stringify([message, (fields.err as Error).message, fields])).not.toContain(SECRET);
  });

  it('checks with an async schema (a zod async refine) on hits and on entries that fail', async () => {
    const { cache } = setup();
    const AsyncUser = User.refine(async (user) => user.id > 0, { path: ['id'] });
    expect(AsyncUser['~standard'].validate({ id: 1, name: 'a' })).toBeInstanceOf(Promise);
    await cached(async (id: number) => ({ id, name: 'old' }), { cache, name: 'asyncUser', ttl: '1h' })(-1);
    let runs = 0;
    const f = cached(async (id: number) => (runs++, { id: Math.abs(id), name: 'new' }), { cache, name: 'asyncUser', ttl: '1h', schema: AsyncUser });
    expect(await f(2)).toEqual({ id: 2, name: 'new' });
    expect(await f(2)).toEqual({ id: 2, name: 'new' });
    expect(await f(-1)).toEqual({ id: 1, name: 'new' }); // the old entry has id -1: refused
    expect(runs).toBe(2);
    expect(f.stats).toMatchObject({ hits: 1, misses: 2, invalid: 1 });
  });

  it('accepts a hand-written Standard Schema, sync or returning a Promise', async () => {
    for (const asynchronous of [false, true]) {
      const { cache } = setup();
      const positive: StandardSchema<number, string> = {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: (value) => {
            const result = typeof value === 'number' && value > 0 ? { value: `#${value}` } : { issues: [{ message: 'not positive', path: [{ key: 'n' }] }] };
            return asynchronous ? Promise.resolve(result) : result;
          },
        },
      };
      const plain = cached(async (id: number) => id * -1, { cache, name: 'n' });
      await plain(5);
      const f = cached(async (id: number) => id, { cache, name: 'n', schema: positive });
      expect(await f(5)).toBe('#5');
      expect(await f(5)).toBe('#5');
      expect(f.stats).toMatchObject({ hits: 1, misses: 1, invalid: 1 });
    }
  });

  it('treats a schema whose validate throws as failing', async () => {
    const { cache, reports } = setup();
    await cached(async () => 1, { cache, name: 'thrower' })();
    let throwing = true;
    const schema: StandardSchema = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          if (throwing) throw new Error(`cannot read ${SECRET}`);
          return { value };
        },
      },
    };
    const f = cached(async () => 2, { cache, name: 'thrower', schema });
    throwing = true;
    await expect(f()).rejects.toBeInstanceOf(CacheSchemaError); // the stored 1 is a miss, then the fresh 2 fails too
    expect(f.stats.invalid).toBe(1);
    throwing = false;
    expect(await f()).toBe(1); // nothing overwrote the stored 1, which passes now
    expect(reports[0]?.fields.err).toMatchObject({ message: 'cachette: thrower: a cached value does not match the schema (validate() threw Error)' });
  });
});

describe('stale values', () => {
  it('never serves an entry that fails the schema as a stale value (staleWhileRevalidate)', async () => {
    const { cache, clock } = setup();
    await cached(oldUser, { cache, name: 'swr', ttl: '10s', staleWhileRevalidate: '1m' })(1);
    clock.advance(15_000); // inside the stale window
    const f = cached(newUser, { cache, name: 'swr', ttl: '10s', staleWhileRevalidate: '1m', schema: User });
    expect(await f(1)).toEqual({ id: 1, name: 'user 1' });
    expect(f.stats).toMatchObject({ stale: 0, misses: 1, invalid: 1 });
  });

  it("serves a valid stale value as the schema's output", async () => {
    const { cache, clock } = setup();
    const Upper = z.string().transform((text) => text.toUpperCase());
    const f = cached(async () => 'abc', { cache, name: 'swrValid', ttl: '10s', staleWhileRevalidate: '1m', schema: Upper });
    expect(await f()).toBe('ABC');
    clock.advance(15_000);
    expect(await f()).toBe('ABC');
    expect(f.stats).toMatchObject({ stale: 1, invalid: 0 });
  });

  it('never falls back to an entry that fails the schema when the origin fails (staleIfError)', async () => {
    const { cache, clock } = setup();
    await cached(oldUser, { cache, name: 'sie', ttl: '10s', staleIfError: '1m' })(1);
    clock.advance(15_000);
    const f = cached(
      async (_id: number): Promise<{ id: number; name: string }> => {
        throw new Error('origin down');
      },
      { cache, name: 'sie', ttl: '10s', staleIfError: '1m', schema: User },
    );
    await expect(f(1)).rejects.toThrow('origin down');
    expect(f.stats).toMatchObject({ staleIfError: 0, invalid: 1 });
  });
});

describe("the origin's own result", () => {
  it('rejects a fresh result that fails the schema with a CacheSchemaError and caches nothing', async () => {
    const { cache, store } = setup();
    let runs = 0;
    const f = cached(async (id: number) => (runs++, { id, fullName: SECRET }) as unknown as { id: number; name: string }, { cache, name: 'bad', ttl: '1h', schema: User });
    const error = await f(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheSchemaError);
    expect(error).toMatchObject({ code: 'CACHE_ERR_SCHEMA', fn: 'bad', paths: ['name'] });
    expect(String((error as Error).message)).not.toContain(SECRET);
    expect(store.get(f.keyFor(1))).toBeUndefined();
    await expect(f(1)).rejects.toBeInstanceOf(CacheSchemaError);
    expect(runs).toBe(2);
  });

  it("gives every caller of one run, a bypass and a refresh the schema's output", async () => {
    const { cache } = setup();
    const Upper = z.string().transform((text) => text.toUpperCase());
    const f = cached(async (word: string) => word, { cache, name: 'upper', schema: Upper });
    expect(await Promise.all([f('a'), f('a')])).toEqual(['A', 'A']);
    expect(await f('b', { bypassCache: true })).toBe('B');
    expect(await f.refresh('c')).toBe('C');
    expect(await f('c')).toBe('C'); // stored as the origin returned it, checked again on read
  });
});

describe('what is stored', () => {
  it("stores the origin's value (the schema's input), so a transform is applied once per read", async () => {
    const { cache } = setup();
    const Doubled = z.number().transform((n) => n * 2);
    const f = cached(async (n: number) => n, { cache, name: 'doubled', schema: Doubled });
    expect(await f(2)).toBe(4);
    expect(await f(2)).toBe(4);
  });

  it('does not check (nor count) entries that a clear() already made misses', async () => {
    const { cache } = setup();
    await cached(oldUser, { cache, name: 'cleared', ttl: '1h' })(1);
    const f = cached(async (id: number) => ({ id, name: 'new' }), { cache, name: 'cleared', ttl: '1h', schema: User });
    await f.clear();
    expect(await f(1)).toEqual({ id: 1, name: 'new' });
    expect(f.stats).toMatchObject({ misses: 1, invalid: 0 });
  });
});

describe('withMeta()', () => {
  it("resolves to the schema's output with the hit's metadata", async () => {
    const { cache } = setup();
    const Upper = z.string().transform((text) => text.toUpperCase());
    const f = cached(async (word: string) => word, { cache, name: 'metaUpper', ttl: '1m', schema: Upper });
    expect(await f.withMeta('a')).toMatchObject({ value: 'A', status: 'miss' });
    expect(await f.withMeta('a')).toMatchObject({ value: 'A', status: 'hit' });
  });
});

describe('many()', () => {
  it('checks every item: those that fail are misses, the others hits', async () => {
    const { cache } = setup();
    const old = cached(oldUser, { cache, name: 'manyUsers', ttl: '1h' });
    await old(1);
    const f = cached(newUser, { cache, name: 'manyUsers', ttl: '1h', schema: User });
    await f(2);
    expect(await f.many([[1], [2], [3]])).toEqual([
      { id: 1, name: 'user 1' },
      { id: 2, name: 'user 2' },
      { id: 3, name: 'user 3' },
    ]);
    expect(f.stats).toMatchObject({ hits: 1, misses: 3, invalid: 1 });
  });
});

describe('the miss lock', () => {
  it("gives a waiter the schema's output of the value the holder wrote", async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    const a = createCache({ store, clock, logger: { warn() {}, error() {} } });
    const b = createCache({ store, clock, logger: { warn() {}, error() {} } });
    const Stamped = z.object({ at: z.string().transform((text) => new Date(text)) });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const holder = cached(async () => (await gate, { at: '2024-01-15T10:30:00.000Z' }), { cache: a, name: 'locked', ttl: '1m', lock: { pollInterval: 1, maxPollInterval: 1 }, schema: Stamped });
    const waiter = cached(async () => ({ at: '2030-01-01T00:00:00.000Z' }), { cache: b, name: 'locked', ttl: '1m', lock: { pollInterval: 1, maxPollInterval: 1 }, schema: Stamped });
    const held = holder();
    await new Promise((resolve) => setImmediate(resolve)); // the holder takes the lock
    const waited = waiter();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const [fromHolder, fromWaiter] = await Promise.all([held, waited]);
    expect(fromHolder.at).toBeInstanceOf(Date);
    expect(fromWaiter.at).toBeInstanceOf(Date);
    expect(fromWaiter.at.getFullYear()).toBe(2024);
    expect(waiter.stats).toMatchObject({ lockWaits: 1 });
  });
});
