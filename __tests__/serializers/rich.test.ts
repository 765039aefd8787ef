/** The rich codec: every value in the tagged JSON form, RegExp included, under the envelope tag `rich`. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createCache } from '../../lib/cache.js';
import { cached } from '../../lib/cached.js';
import { decodeEntry, encodeEntry } from '../../lib/entry.js';
import { CacheSerializationError } from '../../lib/errors.js';
import { jsonSerializer } from '../../lib/serializers/json.js';
import { richSerializer } from '../../lib/serializers/rich.js';
import { sameValue } from '../helpers/same-value.js';
import { thrown } from '../helpers/throws.js';
import { objectOf, values } from '../helpers/values.js';

const CREATED = 1_700_000_000_000;
const prototypeNames = Object.getOwnPropertyNames(Object.prototype);

function roundTrip(value: unknown): unknown {
  return richSerializer.deserialize(richSerializer.serialize(value) as string);
}

// eslint-disable-next-line no-sparse-arrays
const holes = [1, , 3];

describe('richSerializer', () => {
  it('is a text serializer named rich', () => {
    expect(richSerializer.name).toBe('rich');
    expect(richSerializer.binary).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['a RegExp with flags', /a+b/gi],
    ['a sticky unicode RegExp', /é|\u{1F600}/uy],
    ['a RegExp with a slash', /\/api\/v\d+/],
    ['a Date', new Date('2024-05-06T07:08:09.010Z')],
    ['an invalid Date', new Date(NaN)],
    ['a Map with object keys', new Map<unknown, unknown>([[{ id: 1 }, /x/m]])],
    ['a Set of RegExps', new Set([/a/, /b/g])],
    ['a BigInt', -12345678901234567890n],
    ['undefined', undefined],
    ['a sparse array', holes],
    ['NaN, ±Infinity and -0', [NaN, Infinity, -Infinity, -0]],
    ['typed arrays', [new Float64Array([1.5, -0]), new BigUint64Array([2n ** 64n - 1n])]],
    ['a Buffer and a DataView', [Buffer.from('hé'), new DataView(new Uint8Array([1, 2, 3]).buffer)]],
    ['plain data with $ keys', { $id: 1, $$x: '$', $regexp: ['a', 'g'] }],
    ['a nested mix', { rules: [{ match: /^\/users\/(\d+)$/, since: new Date(0), ids: new Set([1n]) }] }],
  ])('keeps %s exactly', (_what, value) => {
    expect(sameValue(roundTrip(value), value)).toBe(true);
  });

  it('writes a RegExp as a readable tag, and plain data in the tagged form', () => {
    expect(richSerializer.serialize({ r: /a+/g, $k: 1 })).toBe('{"r":{"$regexp":["a+","g"]},"$$k":1}');
  });

  it('keeps the JSON default refusing a RegExp, as before', () => {
    const error = thrown(() => encodeEntry(jsonSerializer, { r: /a/ }, CREATED, 1000));
    expect(error.message).toContain('the json serializer cannot store an instance of RegExp (at result › property)');
  });

  it('refuses what it cannot keep, naming the type and where, never the value', () => {
    class Secret {
      constructor(readonly token: string) {}
    }
    const error = thrown(() => encodeEntry(richSerializer, { list: [new Secret('hunter2')] }, CREATED, 1000));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error.message).toBe(
      'cachette: the rich serializer cannot store an instance of Secret (at result › property › array element); return plain data or use a custom serializer',
    );
    expect(thrown(() => richSerializer.serialize(() => 1)).message).toContain('cannot store a function (at result)');
  });

  it('reports a corrupt RegExp tag as a decode failure (a miss)', () => {
    expect(() => richSerializer.deserialize('{"$regexp":["a","gg"]}')).toThrow(SyntaxError);
    expect(() => richSerializer.deserialize('{"$regexp":["a"]}')).toThrow(SyntaxError);
    expect(() => richSerializer.deserialize('{"$regexp":[1,""]}')).toThrow(SyntaxError);
    expect(thrown(() => decodeEntry(richSerializer, `c1|rich|${CREATED}||{"$regexp":["(","g"]}`)).message).toBe(
      'cachette: the rich serializer could not decode a stored entry (SyntaxError)',
    );
  });
});

describe('the rich envelope', () => {
  it('writes every value under the tag rich, and reads it back in every decoder', () => {
    const value = { at: new Date(5), r: /x/g };
    const c1 = encodeEntry(richSerializer, value, CREATED, 5000) as string;
    expect(c1).toBe(`c1|rich|${CREATED}|5000|{"at":{"$date":"1970-01-01T00:00:00.005Z"},"r":{"$regexp":["x","g"]}}`);
    expect(encodeEntry(richSerializer, { a: 1 }, CREATED, 5000)).toBe(`c1|rich|${CREATED}|5000|{"a":1}`);
    expect(sameValue(decodeEntry(richSerializer, c1)?.value, value)).toBe(true);
    expect(sameValue(decodeEntry(richSerializer, c1, false)?.value, value)).toBe(true);
    expect(sameValue(decodeEntry(richSerializer, Buffer.from(c1))?.value, value)).toBe(true);
    const s2 = encodeEntry(richSerializer, value, CREATED, 5000, { staleMs: 1, computeMs: 2 }, 'g1') as string;
    expect(sameValue(decodeEntry(richSerializer, s2)?.value, value)).toBe(true);
  });

  it('is a miss, never a misread, between rich and json', () => {
    const rich = encodeEntry(richSerializer, { a: 1 }, CREATED, 5000);
    const json = encodeEntry(jsonSerializer, { a: 1 }, CREATED, 5000);
    const tagged = encodeEntry(jsonSerializer, { a: new Date(1) }, CREATED, 5000);
    for (const meta of [true, false]) {
      expect(decodeEntry(jsonSerializer, rich, meta)).toBeUndefined();
      expect(decodeEntry(richSerializer, json, meta)).toBeUndefined();
      expect(decodeEntry(richSerializer, tagged, meta)).toBeUndefined();
    }
  });

  it('serves a RegExp from a hit through cached() on createCache({ serializer: "rich" })', async () => {
    const cache = createCache({ serializer: 'rich', store: { type: 'memory' } });
    expect(cache.serializer).toBe(richSerializer);
    let runs = 0;
    const f = cached(
      async (path: string) => {
        runs++;
        return { path, route: /^\/users\/(\d+)$/i };
      },
      { cache, name: 'route' },
    );
    await f('/users/1');
    const hit = await f('/users/1');
    expect(runs).toBe(1);
    expect(hit.route).toBeInstanceOf(RegExp);
    expect(hit.route.test('/USERS/42')).toBe(true);
    expect(await cache.store.get(f.keyFor('/users/1'))).toMatch(/^s1\|rich\|/);
    await cache.close();
  });
});

describe('property: the rich codec', () => {
  it('returns every supported value exactly, RegExps included', () => {
    fc.assert(
      fc.property(values({ regExps: true }), (value) => sameValue(roundTrip(value), value)),
      { numRuns: 400 },
    );
  });

  it('brings __proto__ and constructor keys back as own properties and changes no prototype', () => {
    fc.assert(
      fc.property(values({ regExps: true }), (inner) => {
        const back = roundTrip(objectOf([['__proto__', inner], ['constructor', { prototype: inner }]])) as Record<string, unknown>;
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect(sameValue(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, inner)).toBe(true);
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeNames);
      }),
      { numRuns: 200 },
    );
  });
});
