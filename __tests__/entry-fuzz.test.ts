/**
 * Fuzzing every decoder: random, truncated and mutated bytes under every codec and compression
 * either decode, are a miss, or fail with a CacheSerializationError (which the read path counts and
 * treats as a miss); none pollutes a prototype, and through cached() every call still answers.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { CacheSerializationError } from '../lib/errors.js';
import { compressing } from '../lib/serializers/compression.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import { msgpackSerializer } from '../lib/serializers/msgpack.js';
import { richSerializer } from '../lib/serializers/rich.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import type { Store } from '../lib/stores/store.js';
import { values } from './helpers/values.js';

const CREATED = 1_700_000_000_000;

const codecs: Array<[string, Serializer]> = [
  ['json', jsonSerializer],
  ['rich', richSerializer],
  ['msgpack', msgpackSerializer],
  ['json+deflate', compressing(jsonSerializer, { threshold: 0, algorithm: 'deflate' })],
  ['rich+brotli', compressing(richSerializer, { threshold: 0, algorithm: 'brotli' })],
  ['msgpack+deflate', compressing(msgpackSerializer, { threshold: 0, algorithm: 'deflate' })],
];

const objectNames = Object.getOwnPropertyNames(Object.prototype);
const arrayNames = Object.getOwnPropertyNames(Array.prototype);

/** Prototypes stay as they were, and no decoded object has a prototype that is data (not a class's). */
function expectUnpolluted(value: unknown, seen = new Set<object>()): void {
  expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(objectNames);
  expect(Object.getOwnPropertyNames(Array.prototype)).toEqual(arrayNames);
  walk(value, seen);
}

function walk(value: unknown, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const proto = Object.getPrototypeOf(value) as { constructor?: { prototype?: unknown } } | null;
  if (proto !== null) expect(Object.prototype.hasOwnProperty.call(proto, 'constructor') && proto.constructor?.prototype === proto).toBe(true);
  const items = value instanceof Map ? [...value].flat() : value instanceof Set ? [...value] : ArrayBuffer.isView(value) ? [] : Object.values(value);
  for (const item of items) walk(item, seen);
}

/** Decode `raw` every way a reader can; only a miss, an entry or a CacheSerializationError may come out. */
function decodeAnyway(codec: Serializer, raw: Buffer): void {
  for (const input of [raw, raw.toString('latin1'), raw.toString('utf8')]) {
    for (const meta of [true, false]) {
      try {
        expectUnpolluted(decodeEntry(codec, input, meta)?.value);
      } catch (error) {
        if (!(error instanceof CacheSerializationError)) throw error;
      }
    }
  }
}

const entryOf = (codec: Serializer) =>
  values({ regExps: true }).chain((value) => {
    let entry: string | Uint8Array;
    try {
      entry = encodeEntry(codec, value, CREATED, 5000);
    } catch {
      entry = encodeEntry(codec, { fallback: [1, 'two', null] }, CREATED, 5000);
    }
    const bytes = Buffer.from(typeof entry === 'string' ? Buffer.from(entry, 'utf8') : entry);
    return fc.constant(bytes);
  });

describe.each(codecs)('decoding %s entries from hostile bytes', (_name, codec) => {
  const tag = (encodeEntry(codec, 'x'.repeat(64), CREATED, 5000) as Buffer | string).toString().split('|')[1]!;

  it('survives random bytes after a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => decodeAnyway(codec, Buffer.concat([Buffer.from(`c1|${tag}|${CREATED}|5000|`), body]))),
      { numRuns: 150 },
    );
  });

  it('survives every truncation of a valid entry', () => {
    fc.assert(
      fc.property(entryOf(codec), fc.nat(), (bytes, cut) => decodeAnyway(codec, bytes.subarray(0, cut % (bytes.length + 1)))),
      { numRuns: 150 },
    );
  });

  it('survives random byte changes in a valid entry', () => {
    fc.assert(
      fc.property(entryOf(codec), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (bytes, changes) => {
        const mutated = Buffer.from(bytes);
        for (const [at, byte] of changes) mutated[at % mutated.length] = byte;
        decodeAnyway(codec, mutated);
      }),
      { numRuns: 150 },
    );
  });

  it('survives bytes that are not an entry at all', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeAnyway(codec, Buffer.from(bytes))),
      { numRuns: 200 },
    );
  });
});

describe('the read path under hostile bytes', () => {
  it.each(codecs.slice(0, 3))('answers every %s call from the origin when the stored bytes are garbage, counting each as a hit or a miss', async (name) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 120 }), fc.boolean(), async (body, compressed) => {
        const held = new Map<string, string | Uint8Array>();
        const store: Store = {
          name: 'fuzz',
          get: (key) => held.get(key),
          set: (key, value) => void held.set(key, value),
          delete: (key) => held.delete(key),
        };
        const logger = { warn() {}, error() {} };
        const cache = createCache({ store, serializer: name as 'json' | 'rich' | 'msgpack', logger });
        const f = cached(async (id: number) => ({ id }), { cache, name: 'f' });
        const tag = compressed ? `${name}+df` : name;
        held.set(f.keyFor(1), Buffer.concat([Buffer.from(`s1|${tag}|${CREATED}||`), Buffer.from(body)]));
        held.set(f.keyFor(2), Buffer.from(body));
        expect(await f(1)).toEqual({ id: 1 });
        expect(await f(2)).toEqual({ id: 2 });
        expect(f.stats.hits + f.stats.misses).toBe(2);
        expectUnpolluted(undefined);
        await cache.close();
      }),
      { numRuns: 100 },
    );
  });
});
