/** Compression above a threshold: the tag marker, the boundary, readers with and without it, foreign and broken bytes. */
import { describe, expect, it } from '@jest/globals';
import zlib from 'node:zlib';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { CacheSerializationError } from '../lib/errors.js';
import { compressing, hasAlgorithm, type CompressionAlgorithm } from '../lib/serializers/compression.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import { richSerializer } from '../lib/serializers/rich.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import { sameValue } from './helpers/same-value.js';
import { configError, thrown } from './helpers/throws.js';

const CREATED = 1_700_000_000_000;
const big = { rows: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `row ${i}`, note: 'the same words again and again' })) };
const bigText = JSON.stringify(big);

const deflating = (threshold: number, serializer: Serializer = jsonSerializer, algorithm: CompressionAlgorithm = 'deflate') =>
  compressing(serializer, { threshold, algorithm });

/** A binary serializer: the value's JSON as bytes, prefixed with one byte. */
const bytes: Serializer = {
  name: 'bytes',
  binary: true,
  serialize: (value) => Buffer.concat([Buffer.from([0xfe]), Buffer.from(JSON.stringify(value))]),
  deserialize: (raw) => JSON.parse((raw as Buffer).subarray(1).toString('utf8')),
};

function header(entry: string | Uint8Array): string {
  const text = typeof entry === 'string' ? entry : Buffer.from(entry).toString('latin1');
  return text.slice(0, text.indexOf('|', text.indexOf('|', text.indexOf('|', 3) + 1) + 1) + 1);
}

describe('writing', () => {
  it('compresses a payload of exactly the threshold, and leaves one byte less as it was', () => {
    const size = Buffer.byteLength(bigText);
    const at = encodeEntry(deflating(size), big, CREATED, 5000);
    const under = encodeEntry(deflating(size + 1), big, CREATED, 5000);
    expect(header(at)).toBe(`c1|json+df|${CREATED}|5000|`);
    expect(Buffer.isBuffer(at)).toBe(true);
    expect((at as Buffer).byteLength).toBeLessThan(size / 4);
    expect(under).toBe(encodeEntry(jsonSerializer, big, CREATED, 5000));
  });

  it('counts the threshold in bytes, not characters', () => {
    const text = 'é'.repeat(600); // 1,202 bytes of JSON, 602 characters
    expect(header(encodeEntry(deflating(1000), text, CREATED, 5000))).toBe(`c1|json+df|${CREATED}|5000|`);
  });

  it('marks the tagged form, the rich and binary serializers, and brotli', () => {
    const tagged = { ...big, at: new Date(0) };
    expect(header(encodeEntry(deflating(1), tagged, CREATED, 5000))).toBe(`c1|json+t+df|${CREATED}|5000|`);
    expect(header(encodeEntry(deflating(1, richSerializer), big, CREATED, 5000))).toBe(`c1|rich+df|${CREATED}|5000|`);
    expect(header(encodeEntry(deflating(1, bytes), big, CREATED, 5000))).toBe(`c1|bytes+df|${CREATED}|5000|`);
    expect(header(encodeEntry(deflating(1, jsonSerializer, 'brotli'), big, CREATED, 5000))).toBe(`c1|json+br|${CREATED}|5000|`);
  });

  it('writes undefined without a payload, compressed or not', () => {
    expect(encodeEntry(deflating(0), undefined, CREATED, 5000)).toBe(`c1|~|${CREATED}|5000|`);
  });
});

describe('reading', () => {
  const variants: Array<[string, Serializer, unknown]> = [
    ['json', jsonSerializer, big],
    ['json+t', jsonSerializer, { ...big, at: new Date(3), n: 5n }],
    ['rich', richSerializer, { ...big, r: /x/g }],
    ['a binary serializer', bytes, big],
  ];

  it.each(variants)('reads %s entries compressed and uncompressed, with or without compression configured, in every decoder', (_what, serializer, value) => {
    for (const algorithm of ['deflate', 'brotli'] as const) {
      const writers = [serializer, compressing(serializer, { threshold: 1, algorithm })];
      for (const writer of writers) {
        for (const reader of writers) {
          for (const [extras, stamps] of [[undefined, undefined], [{ staleMs: 1, computeMs: 2 }, undefined], [undefined, 'g1']] as const) {
            const entry = encodeEntry(writer, value, CREATED, 5000, extras, stamps);
            const raw = typeof entry === 'string' ? Buffer.from(entry, serializer.binary ? 'latin1' : 'utf8') : entry;
            for (const meta of [true, false]) {
              const back = decodeEntry(reader, raw, meta);
              expect(sameValue(back?.value, value)).toBe(true);
              expect(back?.stamps).toBe(stamps);
            }
          }
        }
      }
    }
  });

  it('is a miss (no error) for a compressed entry handed back as text: its bytes are lost', () => {
    const entry = encodeEntry(deflating(1), big, CREATED, 5000) as Buffer;
    for (const meta of [true, false]) expect(decodeEntry(jsonSerializer, entry.toString('utf8'), meta)).toBeUndefined();
  });

  it('is a miss for another serializer, compressed or not', () => {
    const rich = encodeEntry(deflating(1, richSerializer), big, CREATED, 5000);
    const json = encodeEntry(deflating(1), big, CREATED, 5000);
    expect(decodeEntry(jsonSerializer, rich)).toBeUndefined();
    expect(decodeEntry(richSerializer, json)).toBeUndefined();
    expect(decodeEntry(deflating(1, bytes), json)).toBeUndefined();
    expect(decodeEntry(jsonSerializer, Buffer.from(`c1|yaml+df|${CREATED}||`))).toBeUndefined();
    expect(decodeEntry(jsonSerializer, Buffer.from(`c1|json+xx|${CREATED}||{}`))).toBeUndefined();
  });

  it('reads a zstd entry where this Node has zstd, and as a miss (never an error) where it has not', () => {
    const zstd = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
    const body = zstd === undefined ? Buffer.from('not decodable here') : zstd(Buffer.from(bigText));
    const entry = Buffer.concat([Buffer.from(`c1|json+zs|${CREATED}|5000|`), body]);
    expect(hasAlgorithm('zstd')).toBe(zstd !== undefined);
    if (zstd === undefined) {
      expect(decodeEntry(jsonSerializer, entry)).toBeUndefined();
      expect(decodeEntry(jsonSerializer, entry, false)).toBeUndefined();
    } else {
      expect(decodeEntry(jsonSerializer, entry)?.value).toEqual(big);
    }
  });

  it('reports a truncated or corrupt compressed payload as a decode failure, naming no content', () => {
    const entry = encodeEntry(deflating(1), big, CREATED, 5000) as Buffer;
    for (const broken of [entry.subarray(0, entry.length - 10), Buffer.concat([entry.subarray(0, 30), Buffer.alloc(40, 0xff)])]) {
      const error = thrown(() => decodeEntry(jsonSerializer, broken));
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect(error.message).toMatch(/^cachette: the json serializer could not decode a stored entry \(Error\)$/);
    }
  });
});

describe('createCache({ compression })', () => {
  it('stores a large result compressed and serves it back; a small one stays text', async () => {
    const cache = createCache({ store: { type: 'memory' }, compression: { threshold: 1024 } });
    expect(cache.serializer).toBe(jsonSerializer);
    const f = cached(async (n: number) => (n === 0 ? { small: true } : big), { cache, name: 'f' });
    await f(0);
    await f(1);
    expect(header((await cache.store.get(f.keyFor(1)))!)).toMatch(/^s1\|json\+df\|/);
    expect(await cache.store.get(f.keyFor(0))).toMatch(/^s1\|json\|.*\{"small":true\}$/);
    expect(await f(1)).toEqual(big);
    expect(await f(0)).toEqual({ small: true });
    expect(f.stats.hits).toBe(2);
    expect(f.stats.errors).toBe(0);
    await cache.close();
  });

  it.each<[string, unknown, string, string]>([
    ['a negative threshold', { threshold: -1 }, 'compression.threshold', 'non-negative integer'],
    ['a missing threshold', {}, 'compression.threshold', 'non-negative integer'],
    ['an unknown algorithm', { threshold: 10, algorithm: 'lz4' }, 'compression.algorithm', "expected 'deflate', 'brotli' or 'zstd'"],
    ['an unknown field', { threshold: 10, level: 9 }, 'compression.level', 'not a known option'],
    ['a number', 5, 'compression', 'expected { threshold, algorithm? }'],
  ])('refuses %s, naming the field', (_what, compression, field, message) => {
    const error = configError(() => createCache({ compression } as never));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('refuses zstd on a Node without it, and takes it on one with it', () => {
    if (hasAlgorithm('zstd')) {
      expect(() => createCache({ compression: { threshold: 1, algorithm: 'zstd' } })).not.toThrow();
    } else {
      const error = configError(() => createCache({ compression: { threshold: 1, algorithm: 'zstd' } }));
      expect(error.field).toBe('compression.algorithm');
      expect(error.message).toContain('zstd needs a Node whose node:zlib has it');
    }
  });
});
