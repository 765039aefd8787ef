import type { Serializer } from './serializer.js';
import { decodeTagged, encodeRich } from './tagged.js';

/**
 * A text serializer that keeps JavaScript's own types: every value is written in the tagged JSON
 * form (the one the default writes only when it must), under the envelope tag `rich`.
 *
 * @remarks
 * Keeps, nested in any combination: plain objects and arrays, strings, booleans, `null`, every
 * number (`NaN`, `±Infinity` and `-0` included), `BigInt`, `undefined` (in objects and arrays) and
 * array holes, `Date` (invalid ones included), `Map` (any keys), `Set`, `RegExp` (source and flags;
 * not `lastIndex`), `Buffer`, `ArrayBuffer`, `DataView` and every typed array. Each of those comes
 * back with its own type; an own key starting with `$` is written with one more `$` so it never
 * reads as a tag, and an own `__proto__` or `constructor` key comes back as an ordinary property.
 *
 * Refused like the default's (returned to the caller, not cached, reported as kind `encode`):
 * functions, symbols, objects with symbol keys, instances of any other class, circular structures and
 * nesting deeper than 2,000 levels.
 *
 * Compared with `'json'`: plain values cost a walk more to write and to read (the default reads them
 * with `JSON.parse` alone) and keys starting with `$` are escaped, so entries are less readable in
 * `redis-cli`. Choose it with `createCache({ serializer: 'rich' })`.
 */
export const richSerializer: Serializer = {
  name: 'rich',
  serialize: encodeRich,
  deserialize(raw) {
    return decodeTagged(typeof raw === 'string' ? raw : raw.toString('utf8'));
  },
};
