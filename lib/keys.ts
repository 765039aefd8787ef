/**
 * Key building: how a call's arguments become the store key.
 *
 * Format (stable: changing it is a breaking change):
 *
 * `[namespace:][keyPrefix:]<identity>[:v<version>][:<args>]`
 *
 * - `identity` is `sharedContext`, else the function's `name`; with a fixed `key` option it is that key
 *   and no argument part follows.
 * - `<args>` is the `keyBuilder` result, or the arguments encoded one by one and joined with `:`.
 *   Trailing `undefined` arguments are dropped, so `f(1)` and `f(1, undefined)` share a key.
 *
 * Argument encoding is collision-free: every encoded argument is self-delimiting, so the joined form
 * decodes back to exactly one argument list.
 * - numbers as written (`42`, `-1.5`, `NaN`, `Infinity`), bigints with `n` (`42n`), `true`, `false`,
 *   `null`, `undefined`;
 * - strings bare when they are plain words that cannot be read as anything else (`alice`, `en-GB`,
 *   `a.b_c`), otherwise JSON-quoted (`"1"`, `"a:b"`, `"null"`, `""`); inside arrays and objects
 *   always quoted;
 * - plain objects as canonical JSON with sorted keys (`{"a":1,"b":2}`), properties holding `undefined`
 *   omitted; arrays as `[...]`; a `Date` as `Date(2024-01-01T00:00:00.000Z)`; other class instances
 *   with a `toJSON` method as `ClassName(<encoded toJSON()>)`, the class name bare when it is an ASCII
 *   identifier and JSON-quoted otherwise (`"a(1):b"(2)`), so a name cannot spell other arguments;
 * - functions, symbols, class instances without `toJSON`, circular structures, objects with symbol
 *   keys, and nesting deeper than {@link MAX_KEY_DEPTH}: {@link CacheKeyError}.
 *
 * Equivalences on purpose (the arguments share a key): object property order; properties holding
 * `undefined`, non-enumerable properties, and (on arrays) non-index properties are ignored; an array
 * hole is `undefined`; `-0` is `0`; an object without a prototype is a plain object; an instance of a
 * `Date` subclass is a `Date` (its own `toJSON` is not called); instances of two classes with the same
 * name and the same `toJSON()` result are equal (an anonymous class is named `Object`); trailing
 * `undefined` arguments are dropped.
 *
 * Keys longer than {@link MAX_KEY_LENGTH} keep their first {@link MAX_KEY_LENGTH} characters and end in
 * `#` + the base64url SHA-256 of the whole key, so they stay bounded and still unique.
 *
 * Derived keys: the cross-process miss lock of a key is `<key>|lock` (`locks.ts`). No key built from
 * encoded arguments or bounded by a hash ends in `|lock`; `keyBuilder` results, fixed keys and the
 * head of a function without arguments are user strings that must not end that way either.
 * @module
 */
import { createHash } from 'node:crypto';
import { CacheKeyError } from './errors.js';

/**
 * Keys up to this length are stored as built. Longer ones keep this many characters and end in `#`
 * plus a 43-character hash, so no key exceeds `MAX_KEY_LENGTH + 44` (300) characters.
 */
export const MAX_KEY_LENGTH = 256;

/** What `keys.ts` needs to build a function's key prefix. */
export interface KeyParts {
  readonly namespace?: string | undefined;
  readonly keyPrefix?: string | undefined;
  readonly identity: string;
  readonly version?: string | number | undefined;
}

/** The fixed head of every key of one function: `[namespace:][keyPrefix:]<identity>[:v<version>]`. */
export function keyHead(parts: KeyParts): string {
  let head = parts.identity;
  if (parts.keyPrefix) head = `${parts.keyPrefix}:${head}`;
  if (parts.namespace) head = `${parts.namespace}:${head}`;
  if (parts.version !== undefined) head = `${head}:v${parts.version}`;
  return head;
}

/** Join a head and an encoded argument part, bounding the length. */
export function joinKey(head: string, argsPart: string | undefined): string {
  const key = argsPart === undefined ? head : `${head}:${argsPart}`;
  return key.length > MAX_KEY_LENGTH ? boundKey(key) : key;
}

/** Shorten `key` to its readable head plus a hash of the whole key. */
export function boundKey(key: string): string {
  const digest = createHash('sha256').update(key).digest('base64url');
  return `${key.slice(0, MAX_KEY_LENGTH)}#${digest}`;
}

/**
 * How deep arguments may nest (arrays, objects, `toJSON()` results inside one another) before the key
 * is refused with a {@link CacheKeyError}: a top-level argument is at depth 0, its items at depth 1.
 * It bounds the encoder's recursion, so no argument can overflow the stack.
 */
export const MAX_KEY_DEPTH = 100;

/** Encode an argument list; `undefined` when there is nothing to encode (no args, or only `undefined`s). */
export function encodeArgs(args: readonly unknown[]): string | undefined {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  if (end === 0) return undefined;
  if (end === 1) return encodeTop(args[0], 0);
  let out = encodeTop(args[0], 0);
  for (let i = 1; i < end; i++) out += ':' + encodeTop(args[i], i);
  return out;
}

function encodeTop(value: unknown, index: number): string {
  if (typeof value === 'string') return encodeTopString(value);
  if (typeof value === 'number') return String(value);
  return encodeValue(value, index, 0, undefined);
}

/**
 * A top-level string: bare when it is a plain word (`[A-Za-z_][A-Za-z0-9_.-]*`, not a reserved word),
 * else JSON-quoted. One pass over the characters decides both whether it is a plain word and whether
 * quoting needs escapes: the output is exactly what the regex and `JSON.stringify` of 0.2 gave, and
 * `JSON.stringify` only runs for strings that need escapes (a hit's key building was mostly those two).
 */
export function encodeTopString(value: string): string {
  const length = value.length;
  if (length === 0) return '""';
  const first = value.charCodeAt(0);
  let bare = first < 128 && CHAR_CLASS[first] === WORD_START;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    const type = code < 128 ? CHAR_CLASS[code] : code >= 0xd800 && code <= 0xdfff ? ESCAPED : OTHER;
    if (type === ESCAPED) return JSON.stringify(value);
    if (type === OTHER) bare = false;
  }
  return bare && !isReservedWord(value) ? value : `"${value}"`;
}

/**
 * A JSON-quoted string, as `JSON.stringify(value)` writes it: scanned once, and `JSON.stringify` only
 * for strings that need escapes (`"`, `\`, control characters, lone surrogates).
 */
export function quoteString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 128 ? CHAR_CLASS[code] === ESCAPED : code >= 0xd800 && code <= 0xdfff) return JSON.stringify(value);
  }
  return `"${value}"`;
}

// Character classes of the string encoders, for codes below 128. Surrogates (escaped by
// `JSON.stringify` when unpaired) are sent to the slow path, paired or not: same output, rare input.
const OTHER = 0; // quoted as it is
const ESCAPED = 1; // control characters, `"`, `\`: JSON.stringify escapes them
const WORD = 2; // `0-9 . -`: inside a bare word
const WORD_START = 3; // `A-Z a-z _`: may also start one
const CHAR_CLASS = (() => {
  const table = new Uint8Array(128);
  for (let code = 0; code < 32; code++) table[code] = ESCAPED;
  table[34] = ESCAPED;
  table[92] = ESCAPED;
  for (const char of '0123456789.-') table[char.charCodeAt(0)] = WORD;
  for (let code = 65; code <= 90; code++) table[code] = WORD_START;
  for (let code = 97; code <= 122; code++) table[code] = WORD_START;
  table[95] = WORD_START;
  return table;
})();

/** Words that read as another value, so a string spelled that way is quoted. */
function isReservedWord(word: string): boolean {
  switch (word.length) {
    case 3:
      return word === 'NaN';
    case 4:
      return word === 'true' || word === 'null';
    case 5:
      return word === 'false';
    case 8:
      return word === 'Infinity';
    case 9:
      return word === 'undefined';
    default:
      return false;
  }
}

/** A class label written bare: an ASCII identifier. Any other label is JSON-quoted. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Encode one value at `depth`; `enclosing` holds the objects being encoded around it (for cycles),
 * created on the first object.
 */
function encodeValue(value: unknown, index: number, depth: number, enclosing: object[] | undefined): string {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      return encodeObject(value, index, depth, enclosing ?? []);
    default:
      throw keyError(`a ${typeof value}`, index, depth);
  }
}

function encodeObject(value: object, index: number, depth: number, enclosing: object[]): string {
  if (value instanceof Date) {
    const time = value.getTime();
    return `Date(${Number.isNaN(time) ? 'Invalid' : value.toISOString()})`;
  }
  if (enclosing.includes(value)) throw keyError('a circular structure', index, depth);
  if (depth >= MAX_KEY_DEPTH) throw keyError(`nested more than ${MAX_KEY_DEPTH} levels deep`, index, depth);
  enclosing.push(value);
  const inner = depth + 1;
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += encodeValue(value[i], index, inner, enclosing);
    }
    out += ']';
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      if (Object.getOwnPropertySymbols(value).length > 0) throw keyError('an object with symbol keys', index, depth);
      const record = value as Record<string, unknown>;
      const names = Object.keys(record).sort();
      out = '{';
      let first = true;
      for (const name of names) {
        const field = record[name];
        if (field === undefined) continue;
        out += `${first ? '' : ','}${quoteString(name)}:${encodeValue(field, index, inner, enclosing)}`;
        first = false;
      }
      out += '}';
    } else {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      const className = (value as { constructor?: { name?: unknown } }).constructor?.name;
      if (typeof toJSON !== 'function') {
        throw keyError(`an instance of ${typeof className === 'string' && className ? className : 'a class'} without toJSON()`, index, depth);
      }
      const label = typeof className === 'string' && className !== '' ? className : 'Object';
      // A label that is not an identifier is quoted, so one with `(`, `)`, `:` or `,` in it cannot
      // read as the end of this value and the start of another (`a(1):b`).
      out = `${IDENTIFIER.test(label) ? label : quoteString(label)}(${encodeValue(toJSON.call(value), index, inner, enclosing)})`;
    }
  }
  enclosing.pop();
  return out;
}

function keyError(what: string, index: number, depth: number): CacheKeyError {
  // Only the position and a type: property names and values may be user data.
  const where = `argument ${index}${depth > 0 ? ' (inside it)' : ''}`;
  return new CacheKeyError(
    `cachette: cannot build a cache key: ${where} is ${what}, which has no stable encoding; pass a keyBuilder option`,
  );
}
