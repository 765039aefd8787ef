import type { Serializer } from './serializer.js';

/**
 * The default serializer: `JSON.stringify` / `JSON.parse`. Stored entries read as plain JSON in
 * `redis-cli GET` after a short envelope header (`c1|json|<createdAt>|<ttl>|`).
 *
 * @remarks
 * JSON is lossy in the usual ways: a `Date` comes back as an ISO string, `Map`/`Set` as `{}`, and
 * object properties whose value is `undefined` are dropped. A `BigInt` or a circular structure cannot
 * be serialized: such a result is returned to the caller but not cached (counted in `stats.errors`).
 */
export const jsonSerializer: Serializer = {
  name: 'json',
  serialize(value) {
    const text = JSON.stringify(value);
    // JSON.stringify returns undefined for functions and symbols: nothing faithful to store.
    if (typeof text !== 'string') throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
    return text;
  },
  deserialize(raw) {
    return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  },
};
