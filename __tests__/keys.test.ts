import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cached } from '../lib/cached.js';
import { createCache } from '../lib/cache.js';
import { CacheKeyError } from '../lib/errors.js';
import { MAX_KEY_LENGTH, boundKey, encodeArgs, joinKey, keyHead } from '../lib/keys.js';

const cache = createCache({ store: { type: 'memory' } });
/** The exact key a call with `args` would use, through the public `keyFor` path. */
const keyFn = cached(async (...args: unknown[]) => args.length, { cache, name: 'f' });
const keyOf = (args: unknown[]): string => keyFn.keyFor(...args);

/** Catch what `run` throws (and fail when it throws nothing). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('key format', () => {
  it('builds namespace:keyPrefix:name:vN:args', () => {
    const app = createCache({ store: { type: 'memory' }, namespace: 'app' });
    async function getUser(id: number, region: string): Promise<string> {
      return `${id}@${region}`;
    }
    const cachedGetUser = cached(getUser, { cache: app, keyPrefix: 'svc', version: 3 });
    expect(cachedGetUser.keyFor(42, 'eu')).toBe('app:svc:getUser:v3:42:eu');
  });

  it('leaves out the parts that are not configured', () => {
    expect(keyHead({ identity: 'f' })).toBe('f');
    expect(keyHead({ identity: 'f', namespace: 'ns' })).toBe('ns:f');
    expect(keyHead({ identity: 'f', keyPrefix: 'p' })).toBe('p:f');
    expect(keyHead({ identity: 'f', version: 0 })).toBe('f:v0');
    expect(keyHead({ identity: 'f', version: 'beta' })).toBe('f:vbeta');
    expect(joinKey('f', undefined)).toBe('f');
    expect(joinKey('f', '1')).toBe('f:1');
  });

  it('uses the bare head for a call without arguments', () => {
    expect(keyOf([])).toBe('f');
  });

  it('drops trailing undefined arguments', () => {
    expect(keyOf([1, undefined])).toBe(keyOf([1]));
    expect(keyOf([undefined, undefined])).toBe(keyOf([]));
    expect(encodeArgs([undefined])).toBeUndefined();
  });

  it('keeps an undefined argument that is followed by a defined one', () => {
    expect(keyOf([undefined, 1])).toBe('f:undefined:1');
    expect(keyOf([undefined, 1])).not.toBe(keyOf([1]));
  });

  it('writes plain words bare and everything else JSON-quoted', () => {
    expect(encodeArgs(['alice', 'en-GB', 'a.b_c'])).toBe('alice:en-GB:a.b_c');
    expect(encodeArgs(['1'])).toBe('"1"');
    expect(encodeArgs(['a:b'])).toBe('"a:b"');
    expect(encodeArgs([''])).toBe('""');
    expect(encodeArgs(['hello world'])).toBe('"hello world"');
  });

  it('quotes strings that read as reserved words', () => {
    for (const word of ['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']) {
      expect(encodeArgs([word])).toBe(JSON.stringify(word));
    }
  });
});

describe('key equivalences and distinctions', () => {
  it('gives {a:1,b:2} and {b:2,a:1} one key', () => {
    expect(keyOf([{ a: 1, b: 2 }])).toBe(keyOf([{ b: 2, a: 1 }]));
    expect(keyOf([{ a: 1, b: 2 }])).toBe('f:{"a":1,"b":2}');
  });

  it('sorts keys of nested objects too', () => {
    expect(keyOf([{ outer: { z: 1, y: [{ b: 1, a: 2 }] } }])).toBe(keyOf([{ outer: { y: [{ a: 2, b: 1 }], z: 1 } }]));
  });

  it('omits object properties holding undefined', () => {
    expect(keyOf([{ a: 1, b: undefined }])).toBe(keyOf([{ a: 1 }]));
  });

  it('gives 1 and "1" two keys', () => {
    expect(keyOf([1])).not.toBe(keyOf(['1']));
    expect(keyOf([{ a: 1 }])).not.toBe(keyOf([{ a: '1' }]));
  });

  it("gives f('a:b','c') and f('a','b:c') two keys", () => {
    expect(keyOf(['a:b', 'c'])).not.toBe(keyOf(['a', 'b:c']));
    expect(keyOf(['a:b', 'c'])).not.toBe(keyOf(['a', 'b', 'c']));
  });

  it('tells null, undefined, false and their string spellings apart', () => {
    const keys = [null, undefined, false, 'null', 'undefined', 'false'].map((v) => keyOf([v, 0]));
    expect(new Set(keys).size).toBe(6);
  });

  it('treats -0 as 0, at the top level and nested', () => {
    expect(keyOf([-0])).toBe(keyOf([0]));
    expect(keyOf([[-0]])).toBe(keyOf([[0]]));
    expect(keyOf([{ n: -0 }])).toBe(keyOf([{ n: 0 }]));
  });

  it('encodes NaN and the infinities distinctly from each other and from their strings', () => {
    expect(encodeArgs([NaN, Infinity, -Infinity])).toBe('NaN:Infinity:-Infinity');
    expect(encodeArgs([[NaN]])).toBe('[NaN]');
    const keys = [NaN, Infinity, -Infinity, 'NaN', 'Infinity', '-Infinity', null].map((v) => keyOf([v]));
    expect(new Set(keys).size).toBe(7);
  });

  it('encodes bigints with an n, apart from numbers and strings', () => {
    expect(encodeArgs([42n])).toBe('42n');
    expect(encodeArgs([{ big: -7n }])).toBe('{"big":-7n}');
    expect(new Set([keyOf([42n]), keyOf([42]), keyOf(['42n'])]).size).toBe(3);
  });

  it('encodes a Date as its ISO time, apart from the ISO string', () => {
    const date = new Date('2024-01-01T00:00:00.000Z');
    expect(encodeArgs([date])).toBe('Date(2024-01-01T00:00:00.000Z)');
    expect(keyOf([date])).toBe(keyOf([new Date(date.getTime())]));
    expect(keyOf([date])).not.toBe(keyOf([date.toISOString()]));
    expect(encodeArgs([{ at: date }])).toBe('{"at":Date(2024-01-01T00:00:00.000Z)}');
    expect(encodeArgs([new Date(NaN)])).toBe('Date(Invalid)');
  });

  it('encodes nested arrays and objects and tells the nesting apart', () => {
    expect(encodeArgs([[1, [2, 'x'], { k: [null] }]])).toBe('[1,[2,"x"],{"k":[null]}]');
    expect(keyOf([[1, 2]])).not.toBe(keyOf([[[1, 2]]]));
    expect(keyOf([[1, 2]])).not.toBe(keyOf([1, 2]));
    expect(keyOf([[]])).not.toBe(keyOf([{}]));
    expect(keyOf([[undefined]])).not.toBe(keyOf([[]]));
  });

  it('accepts objects without a prototype like plain objects', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    expect(keyOf([bare])).toBe(keyOf([{ a: 1, b: 2 }]));
  });

  it('encodes class instances with toJSON as ClassName(toJSON())', () => {
    class Money {
      constructor(
        readonly amount: number,
        readonly currency: string,
      ) {}
      toJSON(): unknown {
        return { currency: this.currency, amount: this.amount };
      }
    }
    expect(encodeArgs([new Money(5, 'EUR')])).toBe('Money({"amount":5,"currency":"EUR"})');
    expect(keyOf([new Money(5, 'EUR')])).toBe(keyOf([new Money(5, 'EUR')]));
    expect(keyOf([new Money(5, 'EUR')])).not.toBe(keyOf([new Money(6, 'EUR')]));
    expect(keyOf([new Money(5, 'EUR')])).not.toBe(keyOf([{ amount: 5, currency: 'EUR' }]));
  });

  it('encodes built-in classes that have toJSON, such as URL', () => {
    expect(encodeArgs([new URL('https://example.com/a')])).toBe('URL("https://example.com/a")');
    expect(keyOf([new URL('https://example.com/a')])).not.toBe(keyOf([new URL('https://example.com/b')]));
  });
});

describe('arguments without a faithful encoding', () => {
  class Session {
    constructor(readonly token: string) {}
  }
  const secret = 'sk_live_secret_value';
  const circular: Record<string, unknown> = { password: secret };
  circular.self = circular;
  const cases: Array<[string, unknown, RegExp]> = [
    ['a function', function secretFunctionName() {}, /argument 0 is a function/],
    ['a symbol', Symbol(secret), /argument 0 is a symbol/],
    ['a class instance without toJSON', new Session(secret), /an instance of Session without toJSON/],
    ['a Map', new Map([[secret, secret]]), /an instance of Map without toJSON/],
    ['a circular structure', circular, /a circular structure/],
    ['an object with symbol keys', { [Symbol(secret)]: secret, visible: 1 }, /symbol keys/],
    ['a function nested in an object', { handler: () => secret }, /argument 0 \(inside it\) is a function/],
  ];

  it.each(cases)('rejects %s with a CacheKeyError that asks for a keyBuilder', (_what, value, detail) => {
    const error = thrown(() => keyOf([value]));
    expect(error).toBeInstanceOf(CacheKeyError);
    expect((error as CacheKeyError).code).toBe('CACHE_ERR_KEY');
    expect((error as Error).message).toMatch(detail);
    expect((error as Error).message).toMatch(/keyBuilder/);
  });

  it.each(cases)('keeps the value of %s out of the error message', (_what, value) => {
    const message = (thrown(() => keyOf([value])) as Error).message;
    expect(message).not.toContain(secret);
    expect(message).not.toContain('secretFunctionName');
    expect(message).not.toContain('password');
  });

  it('names the position of the offending argument', () => {
    expect((thrown(() => keyOf([1, 'a', () => 0])) as Error).message).toMatch(/argument 2 is a function/);
  });

  it('accepts the same object twice when it is shared, not circular', () => {
    const shared = { a: 1 };
    expect(keyOf([[shared, shared]])).toBe('f:[{"a":1},{"a":1}]');
  });

  it('rejects a call (without running the origin) when an argument cannot be encoded', async () => {
    let runs = 0;
    const f = cached(async (handler: () => number) => handler() + ++runs, { cache, name: 'withCallback' });
    await expect(f(() => 1)).rejects.toBeInstanceOf(CacheKeyError);
    expect(runs).toBe(0);
  });
});

describe('long keys', () => {
  it(`keeps keys up to MAX_KEY_LENGTH (${MAX_KEY_LENGTH}) unchanged`, () => {
    const arg = 'x'.repeat(MAX_KEY_LENGTH - 'f:'.length);
    expect(keyOf([arg])).toBe(`f:${arg}`);
    expect(keyOf([arg])).toHaveLength(MAX_KEY_LENGTH);
  });

  it('bounds longer keys to MAX_KEY_LENGTH + 44 characters, keeping the readable head', () => {
    const arg = 'x'.repeat(MAX_KEY_LENGTH - 1);
    const key = keyOf([arg]);
    expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH + 44);
    expect(key.startsWith(`f:${'x'.repeat(MAX_KEY_LENGTH - 2)}`)).toBe(true);
    expect(key).toMatch(/#[A-Za-z0-9_-]{43}$/);
    const huge = keyOf(['y'.repeat(100_000)]);
    expect(huge.length).toBeLessThanOrEqual(MAX_KEY_LENGTH + 44);
  });

  it('gives distinct long inputs distinct keys even when their heads agree', () => {
    const head = 'z'.repeat(MAX_KEY_LENGTH * 2);
    const a = keyOf([head + 'a']);
    const b = keyOf([head + 'b']);
    expect(a.slice(0, MAX_KEY_LENGTH)).toBe(b.slice(0, MAX_KEY_LENGTH));
    expect(a).not.toBe(b);
    expect(keyOf([head + 'a'])).toBe(a);
  });

  it('bounds a long head (namespace, prefix, name) the same way', () => {
    const key = boundKey('n'.repeat(1000));
    expect(key.length).toBe(MAX_KEY_LENGTH + 44);
    expect(joinKey('n'.repeat(1000), '1')).toHaveLength(MAX_KEY_LENGTH + 44);
  });
});

// ---------------------------------------------------------------------------------------------
// Property-style tests over generated argument tuples
// ---------------------------------------------------------------------------------------------

/**
 * A canonical form of an argument tuple that mirrors the documented equivalences and nothing else:
 * object key order does not matter, properties holding undefined are omitted, -0 equals 0, trailing
 * undefined arguments are dropped, plain and null-prototype objects are alike, NaN equals NaN.
 * It is built on tagged JSON, so two tuples have the same canonical form only when they are equivalent.
 */
function canon(value: unknown): unknown {
  if (value === undefined) return ['undefined'];
  if (value === null) return ['null'];
  switch (typeof value) {
    case 'string':
      return ['string', value];
    case 'number':
      return ['number', Number.isNaN(value) ? 'NaN' : Object.is(value, -0) ? '0' : String(value)];
    case 'bigint':
      return ['bigint', value.toString()];
    case 'boolean':
      return ['boolean', value];
    default:
      break;
  }
  if (Array.isArray(value)) return ['array', value.map(canon)];
  if (value instanceof Date) return ['date', Number.isNaN(value.getTime()) ? 'invalid' : value.getTime()];
  const record = value as Record<string, unknown>;
  const names = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort();
  return ['object', names.map((name) => [name, canon(record[name])])];
}

function canonTuple(args: readonly unknown[]): string {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  return JSON.stringify(args.slice(0, end).map(canon));
}

/** An equivalent tuple: object keys reversed, an undefined property added, 0 and -0 swapped, trailing undefineds. */
function equivalent(args: readonly unknown[], trailing: number): unknown[] {
  const twin = (value: unknown): unknown => {
    if (typeof value === 'number' && value === 0) return Object.is(value, -0) ? 0 : -0;
    if (Array.isArray(value)) return value.map(twin);
    if (value instanceof Date) return new Date(value.getTime());
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const define = (name: string, field: unknown): void => {
        // defineProperty: a generated "__proto__" key must stay an own property
        Object.defineProperty(out, name, { value: field, enumerable: true, writable: true, configurable: true });
      };
      if (!('extra' in record)) define('extra', undefined);
      for (const name of Object.keys(record).reverse()) define(name, twin(record[name]));
      return out;
    }
    return value;
  };
  return [...args.map(twin), ...Array.from({ length: trailing }, () => undefined)];
}

const trickyText = fc.constantFrom(
  '', ':', '::', '"', '\\', 'a:b', 'b:c', 'a', 'b', 'c', '1', '-1', '0', '-0', '1n', '1e3', 'NaN', 'Infinity', '-Infinity',
  'true', 'false', 'null', 'undefined', 'Date', 'Date(Invalid)', '{}', '[]', '[1]', '{"a":1}', 'é', '日本', '😀', 'a b',
  '__proto__', 'constructor', 'toJSON', 'a,b', ')', '(', '#',
);
const text = fc.oneof(
  trickyText,
  fc.string({ unit: fc.constantFrom(':', '"', '\\', ',', '{', '}', '[', ']', '(', ')', 'a', 'b', '1', 'n', ' ', '.', '-', '_', 'é', '😀'), maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const number = fc.oneof(
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
  fc.integer({ min: -20, max: 20 }),
  fc.double(),
);
const leaf = fc.oneof(
  text,
  number,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.oneof(fc.bigInt({ min: -20n, max: 20n }), fc.bigInt()),
  fc.date({ noInvalidDate: false }),
);
const propertyName = fc.oneof(trickyText, fc.string({ unit: fc.constantFrom('a', 'b', ':', '"', 'é'), maxLength: 3 }));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(propertyName, tie('value'), { maxKeys: 3 }),
  ),
}));
const tuple = fc.array(value, { maxLength: 4 });

describe('key encoding properties', () => {
  it('never gives two distinct argument tuples the same key (thousands of generated tuples)', () => {
    const canonByKey = new Map<string, string>();
    fc.assert(
      fc.property(fc.array(tuple, { minLength: 1, maxLength: 8 }), (tuples) => {
        for (const args of tuples) {
          const key = keyOf(args);
          const form = canonTuple(args);
          const earlier = canonByKey.get(key);
          if (earlier !== undefined && earlier !== form) {
            throw new Error(`two distinct tuples share the key ${key}:\n  ${earlier}\n  ${form}`);
          }
          canonByKey.set(key, form);
        }
      }),
      { numRuns: 1000 },
    );
    expect(canonByKey.size).toBeGreaterThan(2000);
  });

  it('gives equivalent argument tuples the same key (key order, undefined properties, -0, trailing undefined)', () => {
    let checked = 0;
    fc.assert(
      fc.property(tuple, fc.integer({ min: 0, max: 3 }), (args, trailing) => {
        const twin = equivalent(args, trailing);
        // the canonical form agrees that the twin is equivalent, and so must the keys
        if (canonTuple(twin) !== canonTuple(args)) throw new Error(`not a twin: ${canonTuple(twin)}`);
        const key = keyOf(args);
        if (keyOf(twin) !== key || keyOf(args) !== key) throw new Error(`equivalent tuples got two keys: ${key} / ${keyOf(twin)}`);
        checked++;
      }),
      { numRuns: 2000 },
    );
    expect(checked).toBeGreaterThanOrEqual(2000);
  });

  it('keeps every generated key within the length bound', () => {
    fc.assert(
      fc.property(tuple, (args) => keyOf(args).length <= MAX_KEY_LENGTH + 44),
      { numRuns: 500 },
    );
  });
});
