/**
 * The MessagePack codec, on msgpackr in standard mode (`useRecords: false`: no msgpackr "records",
 * so other MessagePack decoders read plain data).
 * @module
 */
import { Packr } from 'msgpackr';
import type { Serializer } from './serializer.js';
import { CodecRefusal } from './tagged.js';

/**
 * How deep a value may nest before it is refused: msgpackr packs and unpacks recursively, and
 * overflows the stack between 1,000 and 2,000 levels.
 */
export const MSGPACK_MAX_DEPTH = 1000;

/**
 * - `useRecords: false`: objects are standard MessagePack maps;
 * - `moreTypes` and `useBigIntExtension`: typed arrays, `ArrayBuffer`, `DataView` and BigInts of any
 *   size keep their types (msgpackr extension types, which other decoders see as extensions);
 * - `structuredClone: false`: a payload that claims shared or circular references is refused.
 */
const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: true, useBigIntExtension: true });

/** What msgpackr writes and reads back with the same type, by exact prototype: subclasses are refused. */
const KEPT = new Set<unknown>([
  Date.prototype,
  Set.prototype,
  RegExp.prototype,
  Buffer.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  ...[Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array].map(
    (ctor) => ctor.prototype as unknown,
  ),
]);

/**
 * What msgpackr tests typed arrays against (`instanceof`). A typed array of another realm (a `vm`
 * context; Jest's sandbox, whose `Uint8Array` comes from outside) is not one to it: it would be
 * written as a plain object, so it is refused.
 */
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype).constructor as abstract new () => ArrayBufferView;

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const getProto = Object.getPrototypeOf;
const symbolsOf = Object.getOwnPropertySymbols;

/** Why a value was refused: what it is and where (container kinds), never a value or a key. */
interface Refused {
  readonly what: string;
  readonly path: string[];
}

/**
 * `undefined` when MessagePack gives `value` back unchanged, else what stands in the way. The path is
 * built only on the way back from a refusal: accepted values allocate nothing.
 */
function refusalOf(value: unknown, depth: number): Refused | undefined {
  switch (typeof value) {
    case 'number':
      return value === 0 && 1 / value < 0 ? { what: '-0 (it would come back as 0)', path: [] } : undefined;
    case 'object':
      return value === null ? undefined : objectRefusal(value, depth);
    case 'function':
      return { what: 'a function', path: [] };
    case 'symbol':
      return { what: 'a symbol', path: [] };
    default:
      return undefined; // strings, booleans, undefined, BigInts
  }
}

function objectRefusal(value: object, depth: number): Refused | undefined {
  if (depth >= MSGPACK_MAX_DEPTH) return { what: `a circular structure or one nested deeper than ${MSGPACK_MAX_DEPTH} levels`, path: [] };
  const proto: unknown = getProto(value);
  if (proto === objectProto || proto === null) {
    if (symbolsOf(value).length > 0) return { what: 'an object with symbol keys', path: [] };
    const record = value as Record<string, unknown>;
    for (const key in record) {
      // msgpackr renames a `__proto__` key to `__proto_` (so it never sets a prototype): refused instead.
      if (key === '__proto__') return { what: 'an own __proto__ key', path: [] };
      const inner = refusalOf(record[key], depth + 1);
      if (inner !== undefined) return within(inner, 'property');
    }
    return undefined;
  }
  if (proto === arrayProto) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) return { what: 'an array hole (it would come back as undefined)', path: ['array element'] };
      const inner = refusalOf(array[i], depth + 1);
      if (inner !== undefined) return within(inner, 'array element');
    }
    return undefined;
  }
  if (proto === Map.prototype) return { what: "a Map (MessagePack maps come back as objects; use serializer: 'rich')", path: [] };
  if (!KEPT.has(proto)) return { what: 'an instance of a class (it would come back as a plain object)', path: [] };
  if (ArrayBuffer.isView(value) && proto !== DataView.prototype && !(value instanceof TypedArray)) {
    return { what: 'a typed array of another realm (it would come back as a plain object)', path: [] };
  }
  if (proto === Set.prototype) {
    for (const item of value as Set<unknown>) {
      const inner = refusalOf(item, depth + 1);
      if (inner !== undefined) return within(inner, 'Set member');
    }
  }
  return undefined;
}

function within(found: Refused, step: string): Refused {
  found.path.unshift(step);
  return found;
}

/**
 * MessagePack (binary, compact), for values of plain data and a few built-in types.
 *
 * @remarks
 * Keeps: plain objects (as MessagePack maps) and arrays, strings, booleans, `null`, `undefined`, every
 * number but `-0` (`NaN` and `±Infinity` included), `BigInt` of any size, `Date` (the standard
 * timestamp extension), `Buffer` (MessagePack `bin`), `Set`, `RegExp`, `ArrayBuffer`, `DataView` and
 * typed arrays (msgpackr extension types). Plain data (maps, arrays, strings, numbers, booleans, nil,
 * bin, timestamps) is standard MessagePack, readable by any decoder.
 *
 * Refused, since they would come back changed (returned to the caller, not cached, reported as kind
 * `encode` naming the type and where it sits): `Map` (MessagePack maps decode as objects; use
 * `'rich'`), `-0`, array holes, own `__proto__` keys, instances of other classes, functions, symbols,
 * circular structures and nesting deeper than 1,000 levels.
 *
 * Decoding never sets a prototype: a `__proto__` key in foreign bytes becomes the own key `__proto_`
 * (msgpackr's rule). Truncated or foreign bytes throw, which the cache counts and treats as a miss.
 * Choose it with `createCache({ serializer: 'msgpack' })`; entries carry the tag `msgpack`.
 */
export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  binary: true,
  serialize(value) {
    const refused = refusalOf(value, 0);
    if (refused !== undefined) {
      throw new CodecRefusal(`cachette: the msgpack serializer cannot store ${refused.what} (at ${['result', ...refused.path].join(' › ')})`);
    }
    return packr.pack(value);
  },
  deserialize(raw) {
    return packr.unpack(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
  },
};
