import { CacheSerializationError } from '../errors.js';
import { TAGGED_FORM, type Serializer, type TaggedSerializer } from './serializer.js';
import { decodeTagged, encodeTagged, needsTags } from './tagged.js';

const json: TaggedSerializer = {
  name: 'json',
  serialize(value) {
    if (needsTags(value)) {
      throw new CacheSerializationError(
        'cachette: this value needs the tagged JSON form, which only a cache entry can record; called directly, the json serializer takes plain JSON values only',
      );
    }
    return JSON.stringify(value);
  },
  deserialize(raw) {
    return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  },
  [TAGGED_FORM]: {
    encode(value) {
      return needsTags(value) ? { text: encodeTagged(value), tagged: true } : { text: JSON.stringify(value), tagged: false };
    },
    decode: decodeTagged,
  },
};

/**
 * The default serializer: results come back with the types they had, and plain JSON values are
 * stored as plain JSON, readable in `redis-cli GET` after a short envelope header
 * (`s1|json|<createdAt>|<ttl>|<stamps>|{"id":1}`).
 *
 * @remarks
 * - **Plain JSON** (strings, finite numbers, booleans, `null`, arrays and plain objects of those):
 *   written with `JSON.stringify` under the envelope tag `json`, read back with `JSON.parse` alone.
 * - **Tagged JSON**: a result that also holds a `Date` (invalid ones included), `Map` (any keys), `Set`,
 *   `BigInt`, `undefined` (in objects and arrays), an array hole, `NaN`, `±Infinity`, `-0`, a typed
 *   array, `DataView`, `ArrayBuffer` or `Buffer` is written under the tag `json+t`, as JSON in which each
 *   of those is a one-key object such as `{"$date":"2024-01-01T00:00:00.000Z"}` (own keys starting with
 *   `$` are written with one more `$`). It comes back with the same types.
 * - **Refused**: functions, symbols, objects with symbol keys, instances of any other class (your
 *   own, `RegExp`, `Error`, `URL`, `WeakMap`, `Promise`, subclasses of the types above, objects with
 *   a `toJSON` method), circular structures and nesting deeper than 2,000 levels. Such a result is
 *   returned to the caller but not cached: counted in `stats.errors` and reported as kind `encode`
 *   with a {@link CacheSerializationError} naming the type and its position, never a value.
 *
 * Not kept, on purpose: object identity (shared references come back as copies), non-enumerable and
 * non-index array properties, getters (stored as the value they returned), and `null`-prototype
 * objects (they come back as ordinary objects).
 *
 * Called directly (outside a cache entry, for example inside your own serializer), `serialize` takes
 * plain JSON values only and throws a {@link CacheSerializationError} for the rest, since only the
 * entry envelope can record the tagged form.
 */
export const jsonSerializer: Serializer = json;
