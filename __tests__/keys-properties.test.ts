/**
 * Property tests of the key encoding over generated arguments: no two distinct argument tuples share
 * a key, equivalent ones share it, and the one-pass string encoders write exactly what 0.2 wrote.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { cached } from '../lib/cached.js';
import { createCache } from '../lib/cache.js';
import { MAX_KEY_LENGTH, encodeArgs, encodeTopString, quoteString } from '../lib/keys.js';

const cache = createCache({ store: { type: 'memory' } });
/** The exact key a call with `args` would use, through the public `keyFor` path. */
const keyFn = cached(async (...args: unknown[]) => args.length, { cache, name: 'f' });
const keyOf = (args: unknown[]): string => keyFn.keyFor(...args);

/** An instance of a class named `label` whose `toJSON()` returns `json`. */
class Labelled {
  constructor(
    readonly label: string,
    readonly json: unknown,
  ) {}
}
function labelled(label: string, json: unknown): object {
  const Class = class {
    toJSON(): unknown {
      return json;
    }
  };
  Object.defineProperty(Class, 'name', { value: label });
  const instance = new Class();
  marks.set(instance, new Labelled(label, json));
  return instance;
}
const marks = new WeakMap<object, Labelled>();

/** A Date subclass: encoded as a Date (an equivalence on purpose). */
class LocalDate extends Date {}

/**
 * A canonical form of an argument tuple that mirrors the documented equivalences and nothing else:
 * object key order does not matter, properties holding undefined and non-enumerable ones are omitted,
 * -0 equals 0, trailing undefined arguments are dropped, plain and null-prototype objects are alike,
 * NaN equals NaN, an array hole is undefined, a Date subclass is a Date, an instance is its class name
 * (empty: `Object`) and its `toJSON()`. Built on tagged JSON, so two tuples have the same canonical
 * form only when they are equivalent.
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
  if (Array.isArray(value)) return ['array', Array.from(value as unknown[], canon)];
  if (value instanceof Date) return ['date', Number.isNaN(value.getTime()) ? 'invalid' : value.getTime()];
  const mark = marks.get(value as object);
  if (mark !== undefined) return ['instance', mark.label === '' ? 'Object' : mark.label, canon(mark.json)];
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

/**
 * An equivalent tuple: object keys reversed, an undefined and a non-enumerable property added, objects
 * without a prototype, 0 and -0 swapped, undefined array items as holes, Dates as a Date subclass,
 * instances rebuilt, trailing undefineds.
 */
function equivalent(args: readonly unknown[], trailing: number): unknown[] {
  const twin = (value: unknown): unknown => {
    if (typeof value === 'number' && value === 0) return Object.is(value, -0) ? 0 : -0;
    if (Array.isArray(value)) {
      const out: unknown[] = new Array(value.length);
      value.forEach((item: unknown, i) => {
        if (item !== undefined) out[i] = twin(item);
      });
      return out;
    }
    if (value instanceof Date) return value instanceof LocalDate ? new Date(value.getTime()) : new LocalDate(value.getTime());
    const mark = typeof value === 'object' && value !== null ? marks.get(value) : undefined;
    if (mark !== undefined) return labelled(mark.label, twin(mark.json));
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      const out: Record<string, unknown> = Object.getPrototypeOf(value) === null ? {} : (Object.create(null) as Record<string, unknown>);
      const define = (name: string, field: unknown, enumerable = true): void => {
        // defineProperty: a generated "__proto__" key must stay an own property
        Object.defineProperty(out, name, { value: field, enumerable, writable: true, configurable: true });
      };
      if (!('extra' in record)) define('extra', undefined);
      if (!('hidden' in record)) define('hidden', 'not enumerable', false);
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
  '__proto__', 'constructor', 'toJSON', 'a,b', ')', '(', '#', 'a(1)', 'a(1):b(2)', 'Object()',
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
const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.date({ noInvalidDate: false }).map((at) => new LocalDate(at.getTime())),
);
const leaf = fc.oneof(
  text,
  number,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.oneof(fc.bigInt({ min: -20n, max: 20n }), fc.bigInt()),
  date,
);
/** Class names, ordinary and odd: ones that contain the encoding's own delimiters included. */
const className = fc.oneof(
  fc.constantFrom('a', 'b', 'Money', 'URL', 'Date', 'Object', '', 'true', '$x', 'é', 'a(1):b', 'a(1),b', '"a"', 'a"b', ':', '(', ')', '1'),
  fc.string({ unit: fc.constantFrom('a', 'b', '1', '(', ')', ':', ',', '"', '[', ']'), minLength: 1, maxLength: 5 }),
);
const propertyName = fc.oneof(trickyText, fc.string({ unit: fc.constantFrom('a', 'b', ':', '"', 'é'), maxLength: 3 }));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(propertyName, tie('value'), { maxKeys: 3 }),
    fc.tuple(className, tie('value')).map(([label, json]) => labelled(label, json)),
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

  it('keeps an instance whose class name spells other arguments apart from those arguments', () => {
    // Adversarial: name a class after the encoding of a real argument list followed by a separator,
    // so that without quoting its key would read as several arguments (`a(1):b(2)`) or items (`[a(1),b(2)]`).
    const name = fc.constantFrom('a', 'b', 'Money', 'x');
    const prefix = fc.array(value, { minLength: 1, maxLength: 3 });
    let checked = 0;
    fc.assert(
      fc.property(prefix, name, value, (before, last, json) => {
        const joined = encodeArgs(before);
        if (joined !== undefined) {
          const spelled = [labelled(`${joined}:${last}`, json)];
          const real = [...before, labelled(last, json)];
          if (keyOf(spelled) === keyOf(real)) throw new Error(`one instance reads as ${before.length + 1} arguments: ${keyOf(real)}`);
        }
        const items = encodeArgs([before]) as string;
        const spelledItem = [[labelled(`${items.slice(1, -1)},${last}`, json)]];
        const realItems = [[...before, labelled(last, json)]];
        if (keyOf(spelledItem) === keyOf(realItems)) throw new Error(`one item reads as ${before.length + 1} items: ${keyOf(realItems)}`);
        checked++;
      }),
      { numRuns: 1000 },
    );
    expect(checked).toBe(1000);
  });

  it('gives equivalent argument tuples the same key (key order, undefined, non-enumerable, holes, -0, Date subclasses, null prototypes)', () => {
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

describe('the one-pass string encoders', () => {
  // The 0.2 encoder of a top-level string, kept here as the reference the new one must match byte for byte.
  const BARE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
  const RESERVED = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']);
  const encodeTopString02 = (text: string): string => (BARE.test(text) && !RESERVED.has(text) ? text : JSON.stringify(text));

  /** Any UTF-16 code unit (lone surrogates and control characters included), words, and near-words. */
  const strings = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 12 }),
    fc.string({ unit: fc.constantFrom('a', 'Z', '_', '0', '9', '.', '-', ' ', '"', '\\', '\n', '\u007f', '\u2028', 'é', '\ud800'), maxLength: 10 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('true', 'false', 'null', 'undefined', 'NaN', 'Infinity', 'Infinityx', 'nul', '-Infinity', '_', 'a', '0a', 'a0', 'user-123'),
  );

  it('writes every top-level string exactly as the regex and JSON.stringify of 0.2 did', () => {
    fc.assert(
      fc.property(strings, (text) => encodeTopString(text) === encodeTopString02(text)),
      { numRuns: 20_000 },
    );
  });

  it('quotes every string exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(strings, (text) => quoteString(text) === JSON.stringify(text)),
      { numRuns: 20_000 },
    );
  });

  it('matches 0.2 on every single code unit', () => {
    const differ: number[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const text = String.fromCharCode(code);
      if (encodeTopString(text) !== encodeTopString02(text) || encodeTopString(`a${text}`) !== encodeTopString02(`a${text}`)) differ.push(code);
      if (quoteString(`a${text}b`) !== JSON.stringify(`a${text}b`)) differ.push(code);
    }
    expect(differ).toEqual([]);
  });
});
