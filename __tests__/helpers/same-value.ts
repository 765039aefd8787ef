/**
 * Strict structural equality for what a codec must give back: the same types (exact prototypes), the
 * same keys in the same order, holes as holes, `-0` as `-0`, NaN as NaN, invalid Dates as invalid
 * Dates, Map and Set entries in insertion order. Unlike Jest's `toStrictEqual` it does not read
 * `constructor`, so objects with an own `constructor` key compare by their contents.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  const proto: unknown = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags;
  if (a instanceof Map) return sameList([...a].flat(), [...(b as Map<unknown, unknown>)].flat());
  if (a instanceof Set) return sameList([...a], [...(b as Set<unknown>)]);
  if (a instanceof ArrayBuffer) return Buffer.from(a).equals(Buffer.from(b as ArrayBuffer));
  if (ArrayBuffer.isView(a)) {
    const other = b as ArrayBufferView;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(other.buffer, other.byteOffset, other.byteLength));
  }
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (i in a !== i in other || !sameValue(a[i], other[i])) return false;
    }
    return true;
  }
  const keys = Object.keys(a);
  if (!sameList(keys, Object.keys(b))) return false;
  const get = (o: object, k: string): unknown => Object.getOwnPropertyDescriptor(o, k)?.value;
  return keys.every((k) => sameValue(get(a, k), get(b, k)));
}

function sameList(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
}
