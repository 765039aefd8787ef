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
 *   `a.b_c`), otherwise JSON-quoted (`"1"`, `"a:b"`, `"null"`, `""`);
 * - plain objects as canonical JSON with sorted keys (`{"a":1,"b":2}`), properties holding `undefined`
 *   omitted; arrays as `[...]`; a `Date` as `Date(2024-01-01T00:00:00.000Z)`; other class instances
 *   with a `toJSON` method as `ClassName(<encoded toJSON()>)`.
 * - functions, symbols, class instances without `toJSON`, circular structures: {@link CacheKeyError}.
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

const BARE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']);

function encodeTop(value: unknown, index: number): string {
  if (typeof value === 'string') return BARE.test(value) && !RESERVED.has(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return encodeValue(value, index, 0, new Set());
}

function encodeValue(value: unknown, index: number, depth: number, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
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
      return encodeObject(value, index, depth, seen);
    default:
      throw keyError(`a ${typeof value}`, index, depth);
  }
}

function encodeObject(value: object, index: number, depth: number, seen: Set<object>): string {
  if (seen.has(value)) throw keyError('a circular structure', index, depth);
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out += ',';
        out += encodeValue(value[i], index, depth + 1, seen);
      }
      return out + ']';
    }
    if (value instanceof Date) {
      const time = value.getTime();
      return `Date(${Number.isNaN(time) ? 'Invalid' : value.toISOString()})`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const record = value as Record<string, unknown>;
      const names = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const name of names) {
        const field = record[name];
        if (field === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(name)}:${encodeValue(field, index, depth + 1, seen)}`;
        first = false;
      }
      if (Object.getOwnPropertySymbols(value).length > 0) throw keyError('an object with symbol keys', index, depth);
      return out + '}';
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      const className = (value as { constructor?: { name?: unknown } }).constructor?.name;
      const label = typeof className === 'string' && className !== '' ? className : 'Object';
      return `${label}(${encodeValue(toJSON.call(value), index, depth + 1, seen)})`;
    }
    const className = (value as { constructor?: { name?: unknown } }).constructor?.name;
    throw keyError(`an instance of ${typeof className === 'string' && className ? className : 'a class'} without toJSON()`, index, depth);
  } finally {
    seen.delete(value);
  }
}

function keyError(what: string, index: number, depth: number): CacheKeyError {
  // Only the position and a type: property names and values may be user data.
  const where = `argument ${index}${depth > 0 ? ' (inside it)' : ''}`;
  return new CacheKeyError(
    `cachette: cannot build a cache key: ${where} is ${what}, which has no stable encoding; pass a keyBuilder option`,
  );
}
