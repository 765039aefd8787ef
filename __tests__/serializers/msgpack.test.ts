/** The MessagePack codec: what it keeps, what it refuses, and the standard bytes it writes for plain data. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createCache } from '../../lib/cache.js';
import { cached } from '../../lib/cached.js';
import { decodeEntry, encodeEntry } from '../../lib/entry.js';
import { CacheSerializationError } from '../../lib/errors.js';
import { jsonSerializer } from '../../lib/serializers/json.js';
import { MSGPACK_MAX_DEPTH, msgpackSerializer } from '../../lib/serializers/msgpack.js';
import vm from 'node:vm';
import { sameValue } from '../helpers/same-value.js';
import { thrown } from '../helpers/throws.js';
import { objectOf, values } from '../helpers/values.js';

const CREATED = 1_700_000_000_000;

function roundTrip(value: unknown): unknown {
  return msgpackSerializer.deserialize(Buffer.from(msgpackSerializer.serialize(value)));
}

function refusal(value: unknown): string {
  const error = thrown(() => msgpackSerializer.serialize(value));
  expect(error).toBeInstanceOf(CacheSerializationError);
  return error.message;
}

describe('msgpackSerializer', () => {
  it('is a binary serializer named msgpack', () => {
    expect(msgpackSerializer.name).toBe('msgpack');
    expect(msgpackSerializer.binary).toBe(true);
  });

  it('writes plain data as standard MessagePack', () => {
    // fixarray of: positive fixint 1, fixstr "a", nil, true, float64 1.5
    expect(Buffer.from(msgpackSerializer.serialize([1, 'a', null, true, 1.5])).toString('hex')).toBe('9501a161c0c3cb3ff8000000000000');
    // a Date is the standard timestamp extension (type -1)
    expect(Buffer.from(msgpackSerializer.serialize(new Date(1000))).toString('hex')).toBe('d6ff00000001');
  });

  it.each<[string, unknown]>([
    ['a plain record', { id: 1, name: 'Ada', roles: ['a', 'b'], active: true, score: 1.5, none: null }],
    ['undefined, in an object and an array', { a: undefined, b: [undefined, 1] }],
    ['NaN and ±Infinity', [NaN, Infinity, -Infinity]],
    ['BigInts of any size', [1n, -(2n ** 70n), 2n ** 64n]],
    ['Dates, invalid ones included', [new Date('2024-05-06T07:08:09.010Z'), new Date(-1), new Date(NaN)]],
    ['a Set', new Set([1, 'a', new Date(2)])],
    ['a RegExp', /a+b/giu],
    ['binary data', [Buffer.from('hé'), new Uint8Array([1, 2]), new Uint8Array([3]).buffer, new DataView(new Uint8Array([4, 5]).buffer)]],
    ['constructor and prototype keys', objectOf([['constructor', { prototype: 1 }], ['prototype', 2]])],
    ['a null-prototype object, as an ordinary one', Object.assign(Object.create(null) as object, { a: 1 })],
  ])('keeps %s', (_what, value) => {
    const back = roundTrip(value);
    if (Object.getPrototypeOf(value) === null) expect(back).toEqual({ a: 1 });
    else expect(sameValue(back, value)).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['a Map', { m: new Map([[1, 2]]) }, "a Map (MessagePack maps come back as objects; use serializer: 'rich') (at result › property)"],
    ['-0', [1, -0], '-0 (it would come back as 0) (at result › array element)'],
    // eslint-disable-next-line no-sparse-arrays
    ['an array hole', { list: [1, , 3] }, 'an array hole (it would come back as undefined) (at result › property › array element)'],
    ['an own __proto__ key', objectOf([['__proto__', 1]]), 'an own __proto__ key (at result)'],
    ['a class instance', new Set([new (class Point { x = 1 })()]), 'an instance of a class (it would come back as a plain object) (at result › Set member)'],
    ['an Error', new Error('secret'), 'an instance of a class'],
    ['a function', { f: () => 1 }, 'a function (at result › property)'],
    ['a symbol', Symbol('s'), 'a symbol (at result)'],
    ['symbol keys', { [Symbol('k')]: 1 }, 'an object with symbol keys (at result)'],
  ])('refuses %s, naming the type and where, never the value', (_what, value, message) => {
    const text = refusal(value);
    expect(text).toContain(`cachette: the msgpack serializer cannot store ${message}`);
    expect(text).not.toContain('secret');
  });

  it('refuses a circular structure and one nested past the limit, and keeps one nested to the limit', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(refusal(loop)).toContain('a circular structure or one nested deeper than 1000 levels');
    let deep: unknown = 1;
    for (let i = 0; i < MSGPACK_MAX_DEPTH; i++) deep = i % 2 ? [deep] : { k: deep };
    expect(sameValue(roundTrip(deep), deep)).toBe(true);
    expect(refusal([deep])).toContain('nested deeper than 1000 levels');
  });

  it('refuses a typed array msgpackr would not recognise (another realm) instead of flattening it', () => {
    // In Jest's sandbox Float64Array is the sandbox's and Uint8Array the host's: msgpackr, which tests
    // `instanceof` the host's TypedArray, would write it as an object.
    expect(refusal(new Float64Array([1.5]))).toContain('a typed array of another realm (it would come back as a plain object) (at result)');
    expect(refusal({ v: vm.runInNewContext('new Int16Array([1])') })).toContain('an instance of a class (it would come back as a plain object) (at result › property)');
  });

  it('reads a foreign __proto__ key as the own key __proto_ and changes no prototype', () => {
    // fixmap(1) { "__proto__": fixmap(1) { "polluted": true } }
    const bytes = Buffer.from('81a95f5f70726f746f5f5f81a8706f6c6c75746564c3', 'hex');
    const back = msgpackSerializer.deserialize(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto_']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('throws on truncated bytes and on a structured-clone reference', () => {
    const bytes = Buffer.from(msgpackSerializer.serialize({ list: ['a long enough string', 2, 3] }));
    expect(() => msgpackSerializer.deserialize(bytes.subarray(0, bytes.length - 3))).toThrow();
    expect(() => msgpackSerializer.deserialize(Buffer.from('d6690000000190', 'hex'))).toThrow();
  });
});

describe('the msgpack envelope', () => {
  it('writes a binary entry under the tag msgpack and reads it back in every decoder', () => {
    const value = { id: 1, at: new Date(9), tags: new Set(['x']) };
    for (const [extras, stamps] of [[undefined, undefined], [{ staleMs: 1, computeMs: 2 }, undefined], [undefined, 'g1'], [{ staleMs: 1, computeMs: 2 }, 'g1']] as const) {
      const entry = encodeEntry(msgpackSerializer, value, CREATED, 5000, extras, stamps) as Buffer;
      expect(Buffer.isBuffer(entry)).toBe(true);
      expect(entry.toString('latin1')).toMatch(/^[cs][12]\|msgpack\|1700000000000\|5000\|/);
      for (const meta of [true, false]) expect(sameValue(decodeEntry(msgpackSerializer, entry, meta)?.value, value)).toBe(true);
    }
  });

  it('is a miss, never a misread, between msgpack and json', () => {
    const packed = encodeEntry(msgpackSerializer, { a: 1 }, CREATED, 5000);
    const json = encodeEntry(jsonSerializer, { a: 1 }, CREATED, 5000);
    for (const meta of [true, false]) {
      expect(decodeEntry(jsonSerializer, packed, meta)).toBeUndefined();
      expect(decodeEntry(msgpackSerializer, json, meta)).toBeUndefined();
      expect(decodeEntry(msgpackSerializer, Buffer.from(json as string), meta)).toBeUndefined();
    }
  });

  it('caches through cached() on createCache({ serializer: "msgpack" }) and returns the types', async () => {
    const cache = createCache({ serializer: 'msgpack', store: { type: 'memory' } });
    expect(cache.serializer).toBe(msgpackSerializer);
    let runs = 0;
    const f = cached(
      async (id: number) => {
        runs++;
        return { id, seen: new Date(id), big: BigInt(id) ** 30n };
      },
      { cache, name: 'f' },
    );
    await f(3);
    expect(await f(3)).toEqual({ id: 3, seen: new Date(3), big: 3n ** 30n });
    expect(runs).toBe(1);
    expect(Buffer.isBuffer(await cache.store.get(f.keyFor(3)))).toBe(true);
    await cache.close();
  });

  it('returns a Map to the caller but does not cache it, counting and reporting the refusal', async () => {
    const reports: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger = { warn: (fields: Record<string, unknown>, message: string) => void reports.push({ fields, message }), error() {} };
    const cache = createCache({ serializer: 'msgpack', store: { type: 'memory' }, logger });
    const f = cached(async () => new Map([['k', 1]]), { cache, name: 'lookup' });
    expect(await f()).toEqual(new Map([['k', 1]]));
    expect(await f()).toEqual(new Map([['k', 1]]));
    expect(f.stats).toMatchObject({ hits: 0, misses: 2, errors: 2 });
    expect(reports.map((r) => r.fields.kind)).toEqual(['encode', 'encode']);
    expect(reports[0]!.message).toBe('cachette: lookup: the result could not be serialized; it was returned but not cached');
    await cache.close();
  });
});

describe('property: the msgpack codec', () => {
  it('returns every value it accepts exactly', () => {
    fc.assert(
      fc.property(values({ maps: false, regExps: true, exactOnly: false, typedArrays: false }), (value) => sameValue(roundTrip(value), value)),
      { numRuns: 400 },
    );
  });

  it('either keeps a value exactly or refuses it with a CacheSerializationError', () => {
    fc.assert(
      fc.property(values({ regExps: true }), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = msgpackSerializer.serialize(value) as Uint8Array;
        } catch (error) {
          expect(error).toBeInstanceOf(CacheSerializationError);
          return;
        }
        expect(sameValue(msgpackSerializer.deserialize(Buffer.from(bytes)), value)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
