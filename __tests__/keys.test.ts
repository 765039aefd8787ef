import { describe, expect, it } from '@jest/globals';
import { cached } from '../lib/cached.js';
import { createCache } from '../lib/cache.js';
import { CacheKeyError } from '../lib/errors.js';
import { MAX_KEY_DEPTH, MAX_KEY_LENGTH, boundKey, encodeArgs, joinKey, keyHead } from '../lib/keys.js';
import { thrown } from './helpers/throws.js';

const cache = createCache({ store: { type: 'memory' } });
/** The exact key a call with `args` would use, through the public `keyFor` path. */
const keyFn = cached(async (...args: unknown[]) => args.length, { cache, name: 'f' });
const keyOf = (args: unknown[]): string => keyFn.keyFor(...args);

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


describe('class labels', () => {
  /** An instance of a class named `label` whose toJSON() returns `json`. */
  function instanceOf(label: string, json: unknown): object {
    const Class = class {
      toJSON(): unknown {
        return json;
      }
    };
    Object.defineProperty(Class, 'name', { value: label });
    return new Class();
  }

  it('keeps a class named a(1):b apart from the two-argument call it spells', () => {
    const spelled = instanceOf('a(1):b', 2);
    expect(encodeArgs([spelled])).toBe('"a(1):b"(2)');
    expect(keyOf([spelled])).not.toBe(keyOf([instanceOf('a', 1), instanceOf('b', 2)]));
    expect(keyOf([[instanceOf('a(1),b', 2)]])).not.toBe(keyOf([[instanceOf('a', 1), instanceOf('b', 2)]]));
  });

  it('writes identifier class names bare, as 0.2 did, and quotes every other name', () => {
    expect(encodeArgs([instanceOf('Money', 1), instanceOf('$x_1', 2)])).toBe('Money(1):$x_1(2)');
    expect(encodeArgs([instanceOf('a"b', 1)])).toBe('"a\\"b"(1)');
    expect(encodeArgs([instanceOf('Café', 1)])).toBe('"Café"(1)');
    expect(encodeArgs([instanceOf('1', 1)])).toBe('"1"(1)');
  });

  it('labels an instance of an anonymous class Object, like a class named Object', () => {
    expect(encodeArgs([instanceOf('', 1)])).toBe('Object(1)');
    expect(keyOf([instanceOf('', 1)])).toBe(keyOf([instanceOf('Object', 1)]));
  });
});

describe('deep arguments', () => {
  /** `levels` arrays (or objects) inside one another, built without recursion. */
  function nested(levels: number, kind: 'array' | 'object'): unknown {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = kind === 'array' ? [value] : { v: value };
    return value;
  }

  it.each(['array', 'object'] as const)('rejects 100,000 levels of %s nesting with a CacheKeyError, not a RangeError', (kind) => {
    const error = thrown(() => keyOf([nested(100_000, kind)]));
    expect(error).toBeInstanceOf(CacheKeyError);
    expect((error as Error).message).toBe(
      `cachette: cannot build a cache key: argument 0 (inside it) is nested more than ${MAX_KEY_DEPTH} levels deep, which has no stable encoding; pass a keyBuilder option`,
    );
  });

  it(`accepts exactly MAX_KEY_DEPTH (${MAX_KEY_DEPTH}) levels and refuses one more`, () => {
    expect(encodeArgs([nested(MAX_KEY_DEPTH, 'array')])).toBe(`${'['.repeat(MAX_KEY_DEPTH)}1${']'.repeat(MAX_KEY_DEPTH)}`);
    expect(thrown(() => encodeArgs([nested(MAX_KEY_DEPTH + 1, 'array')]))).toBeInstanceOf(CacheKeyError);
    expect(thrown(() => encodeArgs([nested(MAX_KEY_DEPTH + 1, 'object')]))).toBeInstanceOf(CacheKeyError);
  });

  it('rejects an endless chain of toJSON() results with a CacheKeyError', () => {
    class Chain {
      toJSON(): unknown {
        return new Chain();
      }
    }
    expect(thrown(() => keyOf([new Chain()]))).toBeInstanceOf(CacheKeyError);
  });

  it('rejects a call with a too-deep argument without running the origin', async () => {
    let runs = 0;
    const f = cached(async (tree: unknown) => ++runs + String(tree).length, { cache, name: 'deep' });
    await expect(f(nested(100_000, 'array'))).rejects.toBeInstanceOf(CacheKeyError);
    expect(runs).toBe(0);
  });
});

describe('equivalences on purpose', () => {
  it('treats an array hole as undefined', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(keyOf([[1, , 3]])).toBe(keyOf([[1, undefined, 3]]));
  });

  it('encodes a Date subclass as a Date', () => {
    class LocalDate extends Date {}
    expect(keyOf([new LocalDate(0)])).toBe(keyOf([new Date(0)]));
  });

  it('ignores non-enumerable properties', () => {
    const withHidden = Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false });
    expect(keyOf([withHidden])).toBe(keyOf([{ a: 1 }]));
  });
});

describe('compatibility with 0.2', () => {
  class Money {
    constructor(
      readonly amount: number,
      readonly currency: string,
    ) {}
    toJSON(): unknown {
      return { currency: this.currency, amount: this.amount };
    }
  }
  // Encodings written by cachette 0.2.0 for the same arguments: entries stored by 0.2 are still found.
  const cases: Array<[unknown[], string]> = [
    [[42, -1.5, 0, -0, NaN, Infinity, -Infinity, 1e21], '42:-1.5:0:0:NaN:Infinity:-Infinity:1e+21'],
    [[42n, true, false, null, undefined, 1], '42n:true:false:null:undefined:1'],
    [['alice', 'en-GB', 'a.b_c', '_x'], 'alice:en-GB:a.b_c:_x'],
    [['1', 'a:b', '', 'hello world', 'null', 'café', 'tab\t', 'quote"', '😀'], '"1":"a:b":"":"hello world":"null":"café":"tab\\t":"quote\\"":"😀"'],
    [[{ b: 2, a: 1 }, { nested: { z: [1, 'x', null] } }], '{"a":1,"b":2}:{"nested":{"z":[1,"x",null]}}'],
    [[[1, [2, 'x'], { k: [null] }], [undefined], { 'a"b': 'c\\d' }], '[1,[2,"x"],{"k":[null]}]:[undefined]:{"a\\"b":"c\\\\d"}'],
    [[new Date('2024-01-01T00:00:00.000Z'), new Date(NaN)], 'Date(2024-01-01T00:00:00.000Z):Date(Invalid)'],
    [[new Money(5, 'EUR'), new URL('https://example.com/a')], 'Money({"amount":5,"currency":"EUR"}):URL("https://example.com/a")'],
    [[7, 'eu', { full: true }], '7:eu:{"full":true}'],
  ];

  it.each(cases)('encodes %j as 0.2 did', (args, encoded) => {
    expect(encodeArgs(args)).toBe(encoded);
  });
});
