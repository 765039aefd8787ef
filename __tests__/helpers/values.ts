/**
 * fast-check arbitraries of the values the built-in codecs keep: leaves of every supported type,
 * nested in every supported container, with keys that stress escaping and prototype handling.
 */
import fc from 'fast-check';

/** Keys that stress the escaping and the decoders: `$`, tag names, prototype names, numbers. */
export const stressKey = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', '$', '$$', '$date', '$$map', '$undefined', '$hole', '$regexp', 'toString', '0', '1', '-1'),
);

/** An object with these own enumerable entries (`__proto__` as an own key, never the prototype). */
export function objectOf(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, item] of entries) Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
  return out;
}

/** A RegExp with any source and any valid combination of flags. */
export const regExp = fc
  .tuple(fc.constantFrom('a+b', '^x$', '[\\d]{2,}', '(?:é|ü)', '\\/', ''), fc.subarray(['d', 'g', 'i', 'm', 's', 'u', 'y']))
  .map(([source, flags]) => new RegExp(source, flags.join('')));

export interface ValueOptions {
  /** Include `Map`s. @defaultValue true */
  readonly maps?: boolean;
  /** Include `RegExp`s. @defaultValue false */
  readonly regExps?: boolean;
  /** Include `-0`, array holes and `__proto__` keys. @defaultValue true */
  readonly exactOnly?: boolean;
  /**
   * Include typed arrays other than `Uint8Array`. Under Jest they belong to the sandbox while
   * `Uint8Array` is the host's, which msgpackr cannot recognise. @defaultValue true
   */
  readonly typedArrays?: boolean;
}

/** Any value of the supported types, nested. */
export function values({ maps = true, regExps = false, exactOnly = true, typedArrays = true }: ValueOptions = {}): fc.Arbitrary<unknown> {
  const leaves: Array<fc.Arbitrary<unknown>> = [
    fc.string(),
    exactOnly ? fc.double() : fc.double().filter((n) => !Object.is(n, -0)),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
    fc.uint8Array().map((bytes) => Buffer.from(bytes)),
    fc.uint8Array(),
    fc.uint8Array().map((bytes) => bytes.slice().buffer),
  ];
  if (typedArrays) leaves.push(fc.int16Array(), fc.float64Array(), fc.bigInt64Array());
  if (regExps) leaves.push(regExp);
  const key = exactOnly ? stressKey : stressKey.filter((k) => k !== '__proto__');
  const { value } = fc.letrec((tie) => {
    const containers: Array<fc.Arbitrary<unknown>> = [
      fc.oneof(...leaves),
      tie('array'),
      tie('object'),
      tie('set'),
      ...(maps ? [tie('map')] : []),
      ...(exactOnly ? [tie('sparse')] : []),
    ];
    return {
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, ...containers),
      array: fc.array(tie('value'), { maxLength: 5 }),
      sparse: fc.sparseArray(tie('value'), { maxLength: 6 }),
      object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(objectOf),
      map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
      set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
    };
  });
  return value;
}
