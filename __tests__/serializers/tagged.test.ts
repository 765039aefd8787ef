/** The default codec's two JSON forms: what needs tags, what round-trips, what is refused and how. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { CacheSerializationError } from '../../lib/errors.js';
import { sameValue } from '../helpers/same-value.js';
import { decodeTagged, encodeTagged, MAX_DEPTH, needsTags } from '../../lib/serializers/tagged.js';
import { thrown } from '../helpers/throws.js';

// Jest compares Dates by their time, and NaN !== NaN: two invalid Dates are the same value here.
expect.addEqualityTesters([
  (a, b) => (a instanceof Date && b instanceof Date && Number.isNaN(a.getTime()) && Number.isNaN(b.getTime()) ? true : undefined),
]);

/** What a hit returns: the plain form through JSON.parse, the tagged form through its decoder. */
function roundTrip(value: unknown): unknown {
  return needsTags(value) ? decodeTagged(encodeTagged(value)) : JSON.parse(JSON.stringify(value));
}

// eslint-disable-next-line no-sparse-arrays
const sparse = [1, , 3];

describe('which form a value needs', () => {
  it.each<[string, unknown]>([
    ['a string', 'a'],
    ['a finite number', 1.5],
    ['zero', 0],
    ['a boolean', true],
    ['null', null],
    ['a nested plain structure', { a: [1, { b: 'c', d: null }], e: {} }],
    ['an object with a null prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['keys starting with $', { $date: 'x', $$: 1 }],
  ])('keeps %s plain', (_what, value) => {
    expect(needsTags(value)).toBe(false);
  });

  it.each<[string, unknown]>([
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a Set', new Set()],
    ['a BigInt', 1n],
    ['undefined in an object', { a: undefined }],
    ['undefined in an array', [undefined]],
    ['a hole', sparse],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['-0', -0],
    ['a Buffer', Buffer.from('x')],
    ['a Uint8Array', new Uint8Array(1)],
    ['an ArrayBuffer', new ArrayBuffer(2)],
    ['a DataView', new DataView(new ArrayBuffer(2))],
    ['a Date deep inside plain data', { a: [{ b: [new Date(0)] }] }],
  ])('tags %s', (_what, value) => {
    expect(needsTags(value)).toBe(true);
  });
});

describe('the tagged form', () => {
  it.each<[string, unknown]>([
    ['a Date', new Date('2024-02-29T12:34:56.789Z')],
    ['an invalid Date', new Date(NaN)],
    ['the largest Date', new Date(8.64e15)],
    ['the smallest Date', new Date(-8.64e15)],
    ['a Map with object keys', new Map<unknown, unknown>([[{ id: 1 }, 'one'], [[2], new Date(2)], ['k', undefined]])],
    ['a Set of mixed values', new Set<unknown>([1, 'a', { b: 2 }, 3n, undefined, NaN])],
    ['BigInts beyond 2^53', [2n ** 64n, -(2n ** 70n), 0n]],
    ['undefined in objects and arrays', { a: undefined, b: [undefined, 1], c: { d: undefined } }],
    ['holes', sparse],
    ['a trailing hole', Object.assign(new Array(3), { 0: 'a' })],
    ['special numbers', [NaN, Infinity, -Infinity, -0, 0, 1e308, 5e-324]],
    ['a Buffer', Buffer.from([0, 1, 255, 124])],
    ['a Buffer slice of a larger pool', Buffer.from('hello world').subarray(6)],
    ['every typed array', [new Int8Array([-1]), new Uint8Array([255]), new Uint8ClampedArray([9]), new Int16Array([-300]), new Uint16Array([65535]), new Int32Array([-7]), new Uint32Array([2 ** 32 - 1]), new Float32Array([1.5, NaN]), new Float64Array([-0, Infinity]), new BigInt64Array([-(2n ** 63n)]), new BigUint64Array([2n ** 64n - 1n])]],
    ['a typed array view into a larger buffer', new Float64Array(new ArrayBuffer(32), 8, 2)],
    ['an ArrayBuffer', new Uint8Array([1, 2, 3]).buffer],
    ['a DataView', new DataView(new Uint8Array([4, 5, 6]).buffer, 1)],
    ['a Map of Sets of Maps', new Map([['a', new Set([new Map([[1n, [new Date(5)]]])])]])],
    ['keys starting with $ next to a Date', { $date: 'not a date', $$x: 1, $: 2, when: new Date(1) }],
    ['a $-key object that looks like a tag', { v: { $bigint: '12' }, n: 1n }],
  ])('round-trips %s', (_what, value) => {
    expect(needsTags(value)).toBe(true);
    expect(roundTrip(value)).toStrictEqual(value);
    expect(sameValue(roundTrip(value), value)).toBe(true);
  });

  it('writes readable tags', () => {
    expect(encodeTagged({ at: new Date('2024-01-01T00:00:00.000Z'), n: 10n, none: undefined, m: new Map([[1, 2]]), $id: 3 })).toBe(
      '{"at":{"$date":"2024-01-01T00:00:00.000Z"},"n":{"$bigint":"10"},"none":{"$undefined":1},"m":{"$map":[[1,2]]},"$$id":3}',
    );
  });

  it('gives a decoded typed array a buffer of its own', () => {
    const view = new Uint16Array(new ArrayBuffer(64), 16, 2);
    view.set([1, 2]);
    const back = roundTrip(view) as Uint16Array;
    expect(back.byteOffset).toBe(0);
    expect(back.buffer.byteLength).toBe(4);
  });

  it('keeps a typed array of the wrong length out (the text is corrupt)', () => {
    expect(() => decodeTagged('{"$Uint32Array":"AAAA"}')).toThrow();
  });

  it.each([
    ['an unknown tag', '{"$regexp":"a"}'],
    ['a tag next to another key', '{"$date":"2024-01-01T00:00:00.000Z","x":1}'],
    ['a hole outside an array', '{"a":{"$hole":1}}'],
    ['a hole at the top', '{"$hole":1}'],
    ['a Map entry that is not a pair', '{"$map":[[1]]}'],
    ['a Map that is not a list', '{"$map":{}}'],
    ['a BigInt that is not digits', '{"$bigint":"1e3"}'],
    ['a number tag for a finite number', '{"$num":"1"}'],
    ['an unparsable date', '{"$date":"yesterday"}'],
    ['a Buffer that is not text', '{"$buffer":1}'],
    ['text that is not JSON', '{"$date":'],
  ])('refuses to decode %s', (_what, text) => {
    expect(() => decodeTagged(text)).toThrow();
  });
});

describe('decoding is safe from prototype pollution', () => {
  it('brings __proto__ and constructor keys back as own properties and changes no prototype', () => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"n":{"$bigint":"1"},"d":{"__proto__":{"x":1},"$$y":2}}';
    const back = decodeTagged(text) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'constructor', 'n', 'd']);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ polluted: true });
    const inner = back.d as Record<string, unknown>;
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value).toEqual({ x: 1 });
    expect(inner.$y).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips an own __proto__ key through the tagged form', () => {
    const value = JSON.parse('{"__proto__":{"a":1},"$x":2}') as Record<string, unknown>;
    value.when = new Date(0);
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ a: 1 });
    expect(back.$x).toBe(2);
    expect(back.when).toEqual(new Date(0));
  });

  it('does not look tags up on an object (no $constructor or $__proto__ tag)', () => {
    expect(() => decodeTagged('{"$constructor":1}')).toThrow();
    expect(() => decodeTagged('{"$__proto__":1}')).toThrow();
    expect(() => decodeTagged('{"$toString":1}')).toThrow();
  });
});

class Point {
  constructor(readonly x: number) {}
  norm(): number {
    return Math.abs(this.x);
  }
}
class Stamp extends Date {}
class Registry extends Map<string, number> {}

describe('refused values', () => {
  const circular: Record<string, unknown> = { secretKey: 'secret-value' };
  circular.self = { again: circular };
  let deep: unknown = 'bottom';
  for (let i = 0; i < MAX_DEPTH + 5; i++) deep = [deep];

  it.each<[string, unknown, string]>([
    ['a function', () => 1, 'a function (at result)'],
    ['a symbol', Symbol('secret-value'), 'a symbol (at result)'],
    ['a function in an object', { secretKey: () => 'secret-value' }, 'a function (at result › property)'],
    ['an instance of a user class', { list: [new Point(4111)] }, 'an instance of Point (at result › property › array element)'],
    ['a Date subclass', new Stamp(0), 'an instance of Stamp (at result)'],
    ['a Map subclass', [new Registry()], 'an instance of Registry (at result › array element)'],
    ['a class instance as a Map key', new Map([[new Point(1), 1]]), 'an instance of Point (at result › Map key)'],
    ['a class instance as a Map value', new Map([[1, new Point(1)]]), 'an instance of Point (at result › Map value)'],
    ['a class instance in a Set', new Set([new Point(1)]), 'an instance of Point (at result › Set member)'],
    ['a WeakMap', new WeakMap(), 'an instance of WeakMap (at result)'],
    ['a RegExp', /secret-value/, 'an instance of RegExp (at result)'],
    ['an Error', new Error('secret-value'), 'an instance of Error (at result)'],
    ['a Promise', Promise.resolve(1), 'an instance of Promise (at result)'],
    ['a boxed number', Object(4111), 'an instance of Number (at result)'],
    ['a class with toJSON', { at: new URL('https://example.com/secret-value') }, 'an instance of URL (at result › property)'],
    ['an object with symbol keys', { a: { [Symbol('secret-value')]: 1 } }, 'an object with symbol keys (at result › property)'],
    ['a plain object with a toJSON function', { toJSON: () => 'secret-value' }, 'a function (at result › property)'],
    ['a circular structure', circular, 'a circular reference (at result › property › property)'],
    ['a structure nested too deeply', deep, `a structure nested deeper than ${MAX_DEPTH} levels (at result)`],
  ])('refuses %s, naming its type and position only', (_what, value, said) => {
    const error = thrown(() => needsTags(value));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error.message).toBe(`cachette: the json serializer cannot store ${said}; return plain data or use a custom serializer`);
    expect(`${error.message}${error.stack}`).not.toMatch(/secret|4111/);
  });

  it('accepts a structure nested exactly as deep as allowed', () => {
    let value: unknown = new Date(0);
    for (let i = 0; i < MAX_DEPTH - 1; i++) value = [value];
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('keeps shared (not circular) references, as copies', () => {
    const shared = { d: new Date(1) };
    const back = roundTrip([shared, shared]) as Array<typeof shared>;
    expect(back).toStrictEqual([shared, shared]);
    expect(back[0]).not.toBe(back[1]);
  });

  it('names a class whose constructor getter throws without calling it again', () => {
    const hostile = Object.create({ get constructor(): never { throw new Error('secret-value'); } }) as object;
    expect(thrown(() => needsTags(hostile)).message).toContain('an instance of a class (at result)');
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

/** Keys that stress the escaping and the decoder: `$`, tag names, prototype names, numbers. */
const key = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', '$', '$$', '$date', '$$map', '$undefined', '$hole', 'toString', '0', '1', '-1'),
);

const leaf = fc.oneof(
  fc.string(),
  fc.double(), // NaN, ±Infinity and -0 included
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.constant(new Date(NaN)),
  fc.uint8Array().map((bytes) => Buffer.from(bytes)),
  fc.uint8Array(),
  fc.int16Array(),
  fc.float64Array(),
  fc.float32Array(),
  fc.bigInt64Array(),
  fc.uint8Array().map((bytes) => bytes.slice().buffer),
);

/** Any value the codec must round-trip: every supported type, nested in every supported container. */
const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('map'), tie('set'), tie('sparse')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  sparse: fc.sparseArray(tie('value'), { maxLength: 6 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [name, item] of entries) Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
    return out;
  }),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
}));

const prototypeNames = Object.getOwnPropertyNames(Object.prototype);

describe('property: every supported value round-trips', () => {
  it('returns what was stored, with its types, for any nesting of supported values', () => {
    fc.assert(
      fc.property(anyValue, (value) => sameValue(roundTrip(value), value)),
      { numRuns: 400 },
    );
  });

  it('chooses the plain form only for values JSON.parse gives back unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.jsonValue()), (value) => {
        if (!needsTags(value)) expect(sameValue(JSON.parse(JSON.stringify(value)), value)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('chooses the plain form for plain JSON values (all but -0)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(needsTags(value)).toBe(!isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value));
      }),
      { numRuns: 400 },
    );
  });

  it('brings an own __proto__ key back as an own property whatever it holds, and changes no prototype', () => {
    fc.assert(
      fc.property(anyValue, (inner) => {
        const value: Record<string, unknown> = { tagged: 1n };
        Object.defineProperty(value, '__proto__', { value: inner, enumerable: true, writable: true, configurable: true });
        const back = roundTrip(value) as Record<string, unknown>;
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect(sameValue(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, inner)).toBe(true);
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeNames);
      }),
      { numRuns: 200 },
    );
  });
});
