/**
 * End to end: a hit returns what the origin returned, with its types, in the memory store and in
 * Redis; what cannot come back unchanged is not cached, and says so once per function.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createCache } from '../../lib/cache.js';
import { cached } from '../../lib/cached.js';
import { decodeEntry, encodeEntry } from '../../lib/entry.js';
import { createQuietLogger, type Logger } from '../../lib/log.js';
import type { Serializer } from '../../lib/serializers/serializer.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { sameValue } from '../helpers/same-value.js';

/** The 0.2 default serializer, as it was. */
const json02: Serializer = {
  name: 'json',
  serialize(value) {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
    return text;
  },
  deserialize: (raw) => JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8')),
};

function recordingLogger(): Logger & { lines: Array<{ fields: Record<string, unknown>; message: string }> } {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const record = (fields: Record<string, unknown>, message: string): void => {
    lines.push({ fields, message });
  };
  return { lines, warn: record, error: record };
}

class Money {
  constructor(
    readonly cents: number,
    readonly currency: string,
  ) {}
  format(): string {
    return `${this.cents / 100} ${this.currency}`;
  }
}

// eslint-disable-next-line no-sparse-arrays
const holes = [1, , 3];

/** Each value JSON changes, as the issue lists them. */
const lossy: Array<[string, unknown]> = [
  ['a Date', new Date('2024-05-06T07:08:09.010Z')],
  ['an invalid Date', new Date(NaN)],
  ['a Map', new Map([['a', 1]])],
  ['a Map with object keys', new Map([[{ id: 1 }, 'one']])],
  ['a Set', new Set([1, 2])],
  ['a BigInt', 12345678901234567890n],
  ['undefined in an object', { a: 1, b: undefined }],
  ['undefined in an array', [1, undefined]],
  ['a sparse array', holes],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['-0', -0],
  ['a typed array', new Float64Array([1.5, -0])],
  ['an ArrayBuffer', new Uint8Array([1, 2]).buffer],
  ['a Buffer', Buffer.from('hello')],
  ['a nested mix', { user: { born: new Date(0), tags: new Set(['a']), balance: 10n, avatar: Buffer.from([1]) }, seen: new Map([[1, [new Date(1)]]]) }],
];

/** Cache `value` with `serializer` and call twice: what the second call (a hit, or not) returns. */
async function secondCall(value: unknown, serializer?: Serializer): Promise<{ back: unknown; runs: number; errors: number }> {
  const cache = createCache({ store: { type: 'memory' }, logger: { warn() {}, error() {} }, ...(serializer ? { serializer } : {}) });
  let runs = 0;
  const f = cached(
    async () => {
      runs++;
      return value;
    },
    { cache, name: 'f' },
  );
  await f();
  const back = await f();
  await cache.close();
  return { back, runs, errors: f.stats.errors };
}

describe('values JSON changes, through cached() on the memory store', () => {
  it.each(lossy)('returns %s from a hit with its type', async (_what, value) => {
    const { back, runs, errors } = await secondCall(value);
    expect(runs).toBe(1);
    expect(errors).toBe(0);
    expect(sameValue(back, value)).toBe(true);
  });

  it.each(lossy)('changed %s or left it uncached with the 0.2 serializer (what this fixes)', async (_what, value) => {
    const { back, runs } = await secondCall(value, json02);
    expect(runs === 2 || !sameValue(back, value)).toBe(true);
  });

  it('gives each hit its own copy', async () => {
    const cache = createCache({ store: { type: 'memory' }, logger: { warn() {}, error() {} } });
    const f = cached(async () => ({ at: new Date(0), tags: new Set(['a']) }), { cache, name: 'f' });
    await f();
    const first = await f();
    first.at.setTime(99);
    first.tags.add('b');
    expect(await f()).toEqual({ at: new Date(0), tags: new Set(['a']) });
  });
});

describe('values that cannot come back unchanged', () => {
  it('returns a class instance to the caller, does not cache it, counts and logs it naming the function', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'memory' }, logger });
    let runs = 0;
    const price = cached(
      async (_sku: string) => {
        runs++;
        return new Money(1999, 'EUR');
      },
      { cache, name: 'price' },
    );
    const first = await price('a');
    expect(first).toBeInstanceOf(Money);
    expect(first.format()).toBe('19.99 EUR');
    expect((await price('a')).format()).toBe('19.99 EUR');
    expect(runs).toBe(2);
    expect(price.stats).toMatchObject({ hits: 0, misses: 2, errors: 2 });
    expect(logger.lines[0]).toEqual({
      fields: { kind: 'encode', fn: 'price', store: 'memory', err: expect.any(Error) },
      message: 'cachette: price: the result could not be serialized; it was returned but not cached',
    });
    expect((logger.lines[0]?.fields.err as Error).message).toBe(
      'cachette: the json serializer cannot store an instance of Money (at result); return plain data or use a custom serializer',
    );
  });

  it('prints one line per function with the default logger, naming it', async () => {
    const lines: string[] = [];
    const cache = createCache({ store: { type: 'memory' }, logger: createQuietLogger((line) => lines.push(line)) });
    const loadWidget = cached(async () => ({ onClick: () => 1 }), { cache, name: 'loadWidget' });
    const loadPoint = cached(async (x: number) => new Money(x, 'EUR'), { cache, name: 'loadPoint' });
    await loadWidget();
    await loadWidget();
    await loadPoint(1);
    await loadPoint(2);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^cachette: loadWidget: .*the json serializer cannot store a function \(at result › property\).*only the first encode failure of loadWidget is logged/);
    expect(lines[1]).toMatch(/^cachette: loadPoint: .*cannot store an instance of Money \(at result\).*only the first encode failure of loadPoint is logged/);
    expect(loadWidget.stats.errors + loadPoint.stats.errors).toBe(4);
  });

  it('caches the plain data a function maps its instances to (the recommended way)', async () => {
    const cache = createCache({ store: { type: 'memory' }, logger: { warn() {}, error() {} } });
    const loadPrice = cached(async (_sku: string) => {
      const money = new Money(1999, 'EUR');
      return { cents: money.cents, currency: money.currency };
    }, { cache, name: 'loadPrice' });
    const price = async (sku: string): Promise<Money> => {
      const { cents, currency } = await loadPrice(sku);
      return new Money(cents, currency);
    };
    await price('a');
    expect((await price('a')).format()).toBe('19.99 EUR');
    expect(loadPrice.stats).toMatchObject({ hits: 1, errors: 0 });
  });
});

describe('in Redis', () => {
  let redis: TestRedis;
  const opened: Array<ReturnType<typeof createCache>> = [];
  const redisCache = (namespace: string) => {
    const cache = createCache({ store: { type: 'redis', url: redis.url }, namespace, logger: { warn() {}, error() {} } });
    opened.push(cache);
    return cache;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()));
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('stores plain JSON readable as before and tagged JSON under json+t, and a hit returns the types', async () => {
    const cache = redisCache('codec');
    const plain = cached(async (id: number) => ({ id, name: 'Ada' }), { cache, name: 'plain' });
    const typed = cached(async (id: number) => ({ id, born: new Date('1815-12-10T00:00:00.000Z'), score: 10n, tags: new Set(['x']) }), { cache, name: 'typed' });
    await plain(1);
    await typed(1);
    expect(await redis.admin.get('codec:plain:1')).toMatch(/^s1\|json\|\d+\|\|[\w-]{8}\.[\w-]{8},[\w-]{8}\.[\w-]{8}\|\{"id":1,"name":"Ada"\}$/);
    expect(await redis.admin.get('codec:typed:1')).toMatch(
      /^s1\|json\+t\|\d+\|\|[\w-]{8}\.[\w-]{8},[\w-]{8}\.[\w-]{8}\|\{"id":1,"born":\{"\$date":"1815-12-10T00:00:00.000Z"\},"score":\{"\$bigint":"10"\},"tags":\{"\$set":\["x"\]\}\}$/,
    );
    const back = await typed(1);
    expect(typed.stats.hits).toBe(1);
    expect(back).toEqual({ id: 1, born: new Date('1815-12-10T00:00:00.000Z'), score: 10n, tags: new Set(['x']) });
  });

  it('is a miss, not a wrong value, for a 0.2 process reading a tagged entry', async () => {
    const cache = redisCache('mixed');
    const when = cached(async () => new Date(5), { cache, name: 'when' });
    await when();
    const raw = await redis.admin.get('mixed:when');
    expect(decodeEntry(json02, raw as string)).toBeUndefined();
    expect(encodeEntry(json02, new Date(5), 1, undefined)).toBe('c1|json|1||"1970-01-01T00:00:00.005Z"');
  });
});
