/**
 * The two JSON forms of the default codec.
 *
 * - **Plain**: a value JSON keeps exactly as it is (strings, booleans, `null`, finite numbers other
 *   than `-0`, dense arrays and plain objects of those) is `JSON.stringify`'d and read back with
 *   `JSON.parse` alone.
 * - **Tagged**: a value that also holds a `Date`, `Map`, `Set`, `BigInt`, `undefined`, an array hole,
 *   `NaN`, `±Infinity`, `-0`, a typed array, a `DataView`, an `ArrayBuffer` or a `Buffer` is written as
 *   JSON in which each of those is a one-key object whose key starts with a single `$`
 *   (`{"$date":"2024-01-01T00:00:00.000Z"}`, `{"$map":[[k,v]]}`, `{"$bigint":"12"}`). Keys of the
 *   value's own objects that start with `$` get one more `$` (`$id` is written `$$id`), so they never
 *   read as a tag.
 *
 * The rich codec (`serializers/rich.ts`) always writes the tagged form, and also tags a `RegExp`
 * (`{"$regexp":["a+b","gi"]}`), which the default refuses.
 *
 * Anything else (functions, symbols, objects with symbol keys, instances of other classes, subclasses
 * of the types above, circular structures, nesting deeper than {@link MAX_DEPTH}) is refused with a
 * {@link CacheSerializationError} that names the type and where it sits, never a value or a key.
 *
 * Decoding never assigns through a key it read (no `__proto__` setter, no lookup on a plain object), so
 * a stored `__proto__` or `constructor` key comes back as the ordinary property it was.
 * @module
 */
import { CacheSerializationError } from '../errors.js';

/** How deep a value may nest (objects, arrays, Maps, Sets) before it is refused. */
export const MAX_DEPTH = 2000;

/** A refusal raised by the codec itself: its message is built here and holds no user data. */
export class CodecRefusal extends CacheSerializationError {}

const PLAIN = 0;
const TAGGED = 1;
const REFUSED = 2;

/** Built-in types with a tagged form. */
const DATE = 1;
const MAP = 2;
const SET = 3;
const BUFFER = 4;
const ARRAY_BUFFER = 5;
const DATA_VIEW = 6;
const TYPED_ARRAY = 7;
/** Tagged by the rich codec only: the JSON default refuses it (it always has). */
const REGEXP = 8;

/** The typed array constructors, by the name written in the tag (`$Float64Array`). */
const TYPED_ARRAYS = new Map<string, new (buffer: ArrayBuffer) => ArrayBufferView>([
  ['Int8Array', Int8Array],
  ['Uint8Array', Uint8Array],
  ['Uint8ClampedArray', Uint8ClampedArray],
  ['Int16Array', Int16Array],
  ['Uint16Array', Uint16Array],
  ['Int32Array', Int32Array],
  ['Uint32Array', Uint32Array],
  ['Float32Array', Float32Array],
  ['Float64Array', Float64Array],
  ['BigInt64Array', BigInt64Array],
  ['BigUint64Array', BigUint64Array],
]);

/** Each built-in type with a tagged form, by its exact prototype: subclasses are refused. */
const KINDS = new Map<unknown, number>([
  [Date.prototype, DATE],
  [Map.prototype, MAP],
  [Set.prototype, SET],
  [Buffer.prototype, BUFFER],
  [ArrayBuffer.prototype, ARRAY_BUFFER],
  [DataView.prototype, DATA_VIEW],
  [RegExp.prototype, REGEXP],
  ...[...TYPED_ARRAYS.values()].map((ctor): [unknown, number] => [ctor.prototype, TYPED_ARRAY]),
]);

const TYPED_ARRAY_NAMES = new Map<unknown, string>([...TYPED_ARRAYS].map(([name, ctor]) => [ctor.prototype, name]));

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const getProto = Object.getPrototypeOf;
const symbolsOf = Object.getOwnPropertySymbols;

/**
 * Which form `value` needs: `false` for plain JSON, `true` for the tagged form.
 * @throws {CodecRefusal} when neither form holds it faithfully.
 */
export function needsTags(value: unknown): boolean {
  const result = scan(value, 0);
  if (result === REFUSED) throw refusal(value, 'json', false);
  return result === TAGGED;
}

/**
 * The rich codec's text for `value`: always the tagged form, which also holds a `RegExp`
 * (`{"$regexp":["a+b","gi"]}`; its `lastIndex` is not kept).
 * @throws {CodecRefusal} when the tagged form cannot hold it.
 */
export function encodeRich(value: unknown): string {
  let result;
  scanningRich = true;
  try {
    result = scan(value, 0);
  } finally {
    scanningRich = false;
  }
  if (result === REFUSED) throw refusal(value, 'rich', true);
  return JSON.stringify(toTagged(value));
}

/**
 * Whether the scan running is the rich codec's (RegExp accepted). A module flag, not a parameter:
 * the scan recurses up to {@link MAX_DEPTH} levels and one more argument per frame overflows the stack.
 */
let scanningRich = false;

/**
 * One walk over the value, as cheap as it can be for plain data: no path, no set of visited objects
 * (a cycle shows up as nesting past {@link MAX_DEPTH}; {@link refusal} then finds out which it was).
 */
function scan(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return PLAIN;
    case 'number':
      // NaN and ±Infinity fail the first test, -0 the second.
      return value - value === 0 && (value !== 0 || 1 / value > 0) ? PLAIN : TAGGED;
    case 'object':
      return value === null ? PLAIN : scanObject(value, depth);
    case 'bigint':
    case 'undefined':
      return TAGGED;
    default:
      return REFUSED;
  }
}

function scanObject(value: object, depth: number): number {
  if (depth >= MAX_DEPTH) return REFUSED;
  const proto: unknown = getProto(value);
  let result = PLAIN;
  if (proto === objectProto || proto === null) {
    const record = value as Record<string, unknown>;
    // for…in sees the same keys as JSON.stringify here: these prototypes hold no enumerable properties.
    for (const key in record) {
      const inner = scan(record[key], depth + 1);
      if (inner > result) {
        if (inner === REFUSED) return REFUSED;
        result = inner;
      }
    }
    return symbolsOf(value).length === 0 ? result : REFUSED;
  }
  if (proto === arrayProto) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      // undefined and holes both need tags; the tagged encoder tells them apart.
      const inner = item === undefined ? TAGGED : scan(item, depth + 1);
      if (inner > result) {
        if (inner === REFUSED) return REFUSED;
        result = inner;
      }
    }
    return result;
  }
  const kind = KINDS.get(proto);
  if (kind === MAP) {
    for (const [key, item] of value as Map<unknown, unknown>) {
      if (scan(key, depth + 1) === REFUSED || scan(item, depth + 1) === REFUSED) return REFUSED;
    }
  } else if (kind === SET) {
    for (const item of value as Set<unknown>) if (scan(item, depth + 1) === REFUSED) return REFUSED;
  } else if (kind === undefined || (kind === REGEXP && !scanningRich)) {
    return REFUSED;
  }
  return TAGGED;
}

/** The tagged JSON text of `value` (which {@link needsTags} accepted). */
export function encodeTagged(value: unknown): string {
  return JSON.stringify(toTagged(value));
}

function toTagged(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      if (value - value === 0 && (value !== 0 || 1 / value > 0)) return value;
      return { $num: value === 0 ? '-0' : String(value) };
    case 'bigint':
      return { $bigint: value.toString() };
    case 'undefined':
      return { $undefined: 1 };
    case 'object':
      return value === null ? null : objectToTagged(value);
    default:
      return value;
  }
}

function objectToTagged(value: object): unknown {
  const proto: unknown = getProto(value);
  if (proto === objectProto || proto === null) {
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key in record) define(out, key.charCodeAt(0) === 36 /* $ */ ? `$${key}` : key, toTagged(record[key]));
    return out;
  }
  if (proto === arrayProto) {
    const array = value as unknown[];
    const out = new Array<unknown>(array.length);
    for (let i = 0; i < array.length; i++) out[i] = i in array ? toTagged(array[i]) : { $hole: 1 };
    return out;
  }
  switch (KINDS.get(proto)) {
    case DATE: {
      const time = (value as Date).getTime();
      return { $date: time === time ? (value as Date).toISOString() : null };
    }
    case MAP:
      return { $map: Array.from(value as Map<unknown, unknown>, ([key, item]) => [toTagged(key), toTagged(item)]) };
    case SET:
      return { $set: Array.from(value as Set<unknown>, toTagged) };
    case BUFFER:
      return { $buffer: (value as Buffer).toString('base64') };
    case ARRAY_BUFFER:
      return { $arraybuffer: Buffer.from(value as ArrayBuffer).toString('base64') };
    case DATA_VIEW:
      return { $dataview: base64Of(value as DataView) };
    case REGEXP:
      return { $regexp: [(value as RegExp).source, (value as RegExp).flags] };
    default:
      return { [`$${TYPED_ARRAY_NAMES.get(proto)}`]: base64Of(value as ArrayBufferView) };
  }
}

function base64Of(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

/** Set an own data property, `__proto__` included (a plain assignment would change the prototype). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const HOLE = Symbol('hole');

/** Read tagged JSON text back. @throws on text that is not a tagged value (the entry is then a miss). */
export function decodeTagged(text: string): unknown {
  return revive(JSON.parse(text), 0, false);
}

function revive(node: unknown, depth: number, inArray: boolean): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (depth >= MAX_DEPTH) throw corrupt();
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const item = revive(node[i], depth + 1, true);
      if (item === HOLE) delete node[i];
      else node[i] = item;
    }
    return node;
  }
  const record = node as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && isTag(keys[0]!)) {
    const value = reviveTag(keys[0]!, record[keys[0]!], depth);
    if (value === HOLE && !inArray) throw corrupt();
    return value;
  }
  let escaped = false;
  for (const key of keys) {
    if (key.charCodeAt(0) !== 36) continue;
    if (!isTag(key)) escaped = true;
    else throw corrupt(); // a tag never shares its object
  }
  const out: Record<string, unknown> = escaped ? {} : record;
  for (const key of keys) {
    const value = revive(record[key], depth + 1, false);
    define(out, escaped && key.charCodeAt(0) === 36 ? key.slice(1) : key, value);
  }
  return out;
}

/** `$` followed by anything but `$`: a tag (user keys starting with `$` were written `$$…`). */
function isTag(key: string): boolean {
  return key.charCodeAt(0) === 36 && key.length > 1 && key.charCodeAt(1) !== 36;
}

function reviveTag(tag: string, payload: unknown, depth: number): unknown {
  switch (tag) {
    case '$date':
      if (payload === null) return new Date(NaN);
      if (typeof payload === 'string') {
        const date = new Date(payload);
        if (date.getTime() === date.getTime()) return date;
      }
      throw corrupt();
    case '$map': {
      const map = new Map<unknown, unknown>();
      for (const pair of listOf(payload)) {
        if (!Array.isArray(pair) || pair.length !== 2) throw corrupt();
        map.set(revive(pair[0], depth + 1, false), revive(pair[1], depth + 1, false));
      }
      return map;
    }
    case '$set': {
      const set = new Set<unknown>();
      for (const item of listOf(payload)) set.add(revive(item, depth + 1, false));
      return set;
    }
    case '$bigint':
      if (typeof payload === 'string' && /^-?\d+$/.test(payload)) return BigInt(payload);
      throw corrupt();
    case '$num':
      if (payload === 'NaN') return NaN;
      if (payload === 'Infinity') return Infinity;
      if (payload === '-Infinity') return -Infinity;
      if (payload === '-0') return -0;
      throw corrupt();
    case '$undefined':
      return undefined;
    case '$hole':
      return HOLE;
    case '$buffer':
      return Buffer.from(textOf(payload), 'base64');
    case '$arraybuffer':
      return bytesOf(payload);
    case '$dataview':
      return new DataView(bytesOf(payload));
    case '$regexp': {
      const [source, flags] = pairOf(payload);
      return new RegExp(textOf(source), textOf(flags)); // bad flags or source throw: corrupt
    }
    default: {
      const ctor = TYPED_ARRAYS.get(tag.slice(1));
      if (ctor === undefined) throw corrupt();
      return new ctor(bytesOf(payload)); // a length that is no multiple of the element size throws
    }
  }
}

function listOf(payload: unknown): unknown[] {
  if (!Array.isArray(payload)) throw corrupt();
  return payload;
}

function pairOf(payload: unknown): [unknown, unknown] {
  if (!Array.isArray(payload) || payload.length !== 2) throw corrupt();
  return payload as [unknown, unknown];
}

function textOf(payload: unknown): string {
  if (typeof payload !== 'string') throw corrupt();
  return payload;
}

/** The base64 payload in an ArrayBuffer of its own (aligned, not a slice of Buffer's pool). */
function bytesOf(payload: unknown): ArrayBuffer {
  const bytes = Buffer.from(textOf(payload), 'base64');
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

function corrupt(): Error {
  return new SyntaxError('not a tagged JSON value');
}

// ---------------------------------------------------------------------------------------------
// Refusals: a second, slower walk that finds what was refused and where (only on the failure path).
// ---------------------------------------------------------------------------------------------

/** What a refused value holds, named by type, and where, named by container kind. */
function refusal(value: unknown, codec: string, rich: boolean): CodecRefusal {
  const found = locate(value, 'result', [], new Set(), rich);
  const [what, path] = found ?? ['a value', ['result']];
  return new CodecRefusal(
    `cachette: the ${codec} serializer cannot store ${what} (at ${path.join(' › ')}); return plain data or use a custom serializer`,
  );
}

type Found = [what: string, path: string[]];

function locate(value: unknown, step: string, path: string[], ancestors: Set<object>, rich: boolean): Found | undefined {
  const here = [...path, step];
  switch (typeof value) {
    case 'function':
      return ['a function', here];
    case 'symbol':
      return ['a symbol', here];
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return undefined;
  if (ancestors.has(value)) return ['a circular reference', here];
  if (here.length > MAX_DEPTH) return [`a structure nested deeper than ${MAX_DEPTH} levels`, path.slice(0, 1)];
  const proto: unknown = getProto(value);
  const isPlain = proto === objectProto || proto === null;
  const kind = KINDS.get(proto);
  if (!isPlain && proto !== arrayProto && (kind === undefined || (kind === REGEXP && !rich))) return [`an instance of ${classOf(value)}`, here];
  if (isPlain && symbolsOf(value).length > 0) return ['an object with symbol keys', here];
  ancestors.add(value);
  try {
    if (kind === MAP) {
      for (const [key, item] of value as Map<unknown, unknown>) {
        const found = locate(key, 'Map key', here, ancestors, rich) ?? locate(item, 'Map value', here, ancestors, rich);
        if (found) return found;
      }
    } else if (kind === SET) {
      for (const item of value as Set<unknown>) {
        const found = locate(item, 'Set member', here, ancestors, rich);
        if (found) return found;
      }
    } else if (proto === arrayProto) {
      for (const item of value as unknown[]) {
        const found = locate(item, 'array element', here, ancestors, rich);
        if (found) return found;
      }
    } else if (isPlain) {
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const found = locate(record[key], 'property', here, ancestors, rich);
        if (found) return found;
      }
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}

/** The class name of an instance (a type, never a value), read defensively: `constructor` may be anything. */
function classOf(value: object): string {
  try {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name)) return name;
  } catch {
    // a throwing `constructor` getter: fall through
  }
  return 'a class';
}
