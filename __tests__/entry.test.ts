import { describe, expect, it } from '@jest/globals';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { CacheSerializationError } from '../lib/errors.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import { thrown } from './helpers/throws.js';

const CREATED = 1_700_000_000_000;

/** A binary serializer: values are byte arrays, stored as they are. */
const rawBytes: Serializer = {
  name: 'raw',
  binary: true,
  serialize: (value) => Buffer.from(value as Uint8Array),
  deserialize: (raw) => Buffer.from(raw as Buffer),
};

describe('encodeEntry / decodeEntry with the JSON serializer', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['zero', 0],
    ['an empty string', ''],
    ['false', false],
    ['a string with the separator', 'a|b|c'],
    ['unicode', 'é日本😀'],
    ['a nested structure', { user: { id: 1, tags: ['a', 'b'], meta: { premium: true, score: null } }, list: [[1], [2, [3]]] }],
  ])('round-trips %s', (_what, value) => {
    const encoded = encodeEntry(jsonSerializer, value, CREATED, 60_000);
    expect(typeof encoded).toBe('string');
    expect(decodeEntry(jsonSerializer, encoded)).toEqual({ value, createdAt: CREATED, ttlMs: 60_000 });
  });

  it('writes the header c1|<serializer>|<createdAt>|<ttlMs>| followed by plain JSON', () => {
    expect(encodeEntry(jsonSerializer, { a: 1 }, CREATED, 60_000)).toBe(`c1|json|${CREATED}|60000|{"a":1}`);
  });

  it('leaves the ttl field empty for an entry without expiry', () => {
    expect(encodeEntry(jsonSerializer, 1, CREATED, undefined)).toBe(`c1|json|${CREATED}||1`);
    expect(decodeEntry(jsonSerializer, `c1|json|${CREATED}||1`)).toEqual({ value: 1, createdAt: CREATED, ttlMs: undefined });
  });

  it('marks undefined with ~ and no payload, so no serializer ever sees it', () => {
    expect(encodeEntry(jsonSerializer, undefined, CREATED, 5)).toBe(`c1|~|${CREATED}|5|`);
    const entry = decodeEntry(jsonSerializer, `c1|~|${CREATED}|5|`);
    expect(entry).toBeDefined();
    expect(entry?.value).toBeUndefined();
  });

  it('decodes an undefined entry whatever the reading serializer is', () => {
    const entry = encodeEntry(jsonSerializer, undefined, CREATED, undefined);
    expect(decodeEntry(rawBytes, entry)).toEqual({ value: undefined, createdAt: CREATED, ttlMs: undefined });
  });

  it('round-trips an entry stamped by a clock with fractional milliseconds (performance.now())', () => {
    const entry = decodeEntry(jsonSerializer, encodeEntry(jsonSerializer, { a: 1 }, 1000.5, 60_000));
    expect(entry?.value).toEqual({ a: 1 });
    expect(Math.abs((entry?.createdAt ?? NaN) - 1000.5)).toBeLessThanOrEqual(1);
  });

  it('decodes the same entry given as bytes', () => {
    const text = encodeEntry(jsonSerializer, { name: 'é' }, CREATED, 10) as string;
    expect(decodeEntry(jsonSerializer, Buffer.from(text, 'utf8'))).toEqual({ value: { name: 'é' }, createdAt: CREATED, ttlMs: 10 });
    expect(decodeEntry(jsonSerializer, new Uint8Array(Buffer.from(text, 'utf8')))).toEqual({ value: { name: 'é' }, createdAt: CREATED, ttlMs: 10 });
  });
});

describe('what is not an entry decodes to undefined (a miss)', () => {
  it.each<[string, string]>([
    ['foreign text', 'hello'],
    ['bare JSON written by someone else', '{"a":1}'],
    ['an empty string', ''],
    ['another format version', `c2|json|${CREATED}||1`],
    ['another serializer', `c1|msgpack|${CREATED}||1`],
    ['a truncated header (magic only)', 'c1|'],
    ['a truncated header (no createdAt end)', 'c1|json|17000'],
    ['a truncated header (no ttl end)', `c1|json|${CREATED}|60000`],
    ['a non-numeric createdAt', 'c1|json|yesterday||1'],
    ['a negative ttl', `c1|json|${CREATED}|-5|1`],
    ['a non-numeric ttl', `c1|json|${CREATED}|5m|1`],
    ['an undefined marker with a trailing payload', `c1|~|${CREATED}||1`],
    ['an undefined marker without its last separator', `c1|~|${CREATED}|`],
  ])('treats %s as a miss', (_what, raw) => {
    expect(decodeEntry(jsonSerializer, raw)).toBeUndefined();
    expect(decodeEntry(jsonSerializer, Buffer.from(raw, 'utf8'))).toBeUndefined();
  });

  it('treats bytes that are not even text as a miss', () => {
    expect(decodeEntry(jsonSerializer, Buffer.from([0xff, 0xfe, 0x00, 0x7c, 0x01]))).toBeUndefined();
    expect(decodeEntry(jsonSerializer, Buffer.alloc(0))).toBeUndefined();
  });

  it('treats an entry written by a binary serializer as a miss for the JSON serializer', () => {
    const bytes = encodeEntry(rawBytes, Buffer.from([1, 2, 3]), CREATED, undefined);
    expect(decodeEntry(jsonSerializer, bytes)).toBeUndefined();
  });

  it('does not look for the header past its maximum length', () => {
    const longName = `c1|${'x'.repeat(200)}|${CREATED}||1`;
    expect(decodeEntry(jsonSerializer, Buffer.from(longName))).toBeUndefined();
  });
});

describe('serializer failures', () => {
  it('throws CacheSerializationError for a corrupt payload under our own header, without the payload in the message', () => {
    const raw = `c1|json|${CREATED}||{"password":"hunter2-secret"`;
    const error = thrown(() => decodeEntry(jsonSerializer, raw));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).toMatch(/json serializer could not decode/);
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).not.toContain('password');
  });

  it('keeps a payload that JSON.parse would quote out of the message', () => {
    const raw = `c1|json|${CREATED}||hunter2-secret`;
    const error = thrown(() => decodeEntry(jsonSerializer, Buffer.from(raw)));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('throws CacheSerializationError when the serializer cannot encode, naming only the error type', () => {
    const leaky: Serializer = {
      name: 'leaky',
      serialize: (value) => {
        throw new RangeError(`cannot encode ${JSON.stringify(value)}`);
      },
      deserialize: (raw) => raw,
    };
    const error = thrown(() => encodeEntry(leaky, { card: '4111-1111' }, CREATED, undefined));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).toContain('RangeError');
    expect((error as Error).message).not.toContain('4111');
  });

  it.each<[string, unknown]>([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
  ])('refuses to encode %s with the JSON serializer', (_what, value) => {
    expect(thrown(() => encodeEntry(jsonSerializer, value, CREATED, undefined))).toBeInstanceOf(CacheSerializationError);
  });

  it('refuses to encode a circular result without its property names in the message', () => {
    const circular: Record<string, unknown> = { secretField: 1 };
    circular.loop = circular;
    const error = thrown(() => encodeEntry(jsonSerializer, circular, CREATED, undefined));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).not.toContain('secretField');
  });
});

describe('binary serializers', () => {
  const payload = Buffer.from([0x7c, 0x00, 0xff, 0x7c, 0x63, 0x31, 0x80]); // includes '|' and non-UTF-8 bytes

  it('frames the bytes behind the same ASCII header', () => {
    const encoded = encodeEntry(rawBytes, payload, CREATED, 1000);
    expect(Buffer.isBuffer(encoded)).toBe(true);
    const header = `c1|raw|${CREATED}|1000|`;
    expect((encoded as Buffer).subarray(0, header.length).toString('latin1')).toBe(header);
    expect((encoded as Buffer).subarray(header.length).equals(payload)).toBe(true);
  });

  it('round-trips bytes given as a Buffer, a Uint8Array view and a latin1 string', () => {
    const encoded = encodeEntry(rawBytes, payload, CREATED, 1000) as Buffer;
    const fromBuffer = decodeEntry(rawBytes, encoded);
    expect(Buffer.isBuffer(fromBuffer?.value)).toBe(true);
    expect((fromBuffer?.value as Buffer).equals(payload)).toBe(true);
    expect(fromBuffer?.createdAt).toBe(CREATED);
    expect(fromBuffer?.ttlMs).toBe(1000);

    const padded = Buffer.concat([Buffer.from('junk'), encoded]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 4, encoded.length);
    expect((decodeEntry(rawBytes, view)?.value as Buffer).equals(payload)).toBe(true);

    expect((decodeEntry(rawBytes, encoded.toString('latin1'))?.value as Buffer).equals(payload)).toBe(true);
  });

  it('hands the binary serializer a Buffer and the text serializer a string', () => {
    const seen: string[] = [];
    const spy = (name: string, binary: boolean): Serializer => ({
      name,
      binary,
      serialize: () => (binary ? Buffer.from('x') : 'x'),
      deserialize: (raw) => {
        seen.push(`${name}:${Buffer.isBuffer(raw) ? 'buffer' : typeof raw}`);
        return raw;
      },
    });
    decodeEntry(spy('bin', true), Buffer.from(`c1|bin|${CREATED}||x`));
    decodeEntry(spy('bin', true), `c1|bin|${CREATED}||x`);
    decodeEntry(spy('txt', false), Buffer.from(`c1|txt|${CREATED}||x`));
    decodeEntry(spy('txt', false), `c1|txt|${CREATED}||x`);
    expect(seen).toEqual(['bin:buffer', 'bin:buffer', 'txt:string', 'txt:string']);
  });

  it('keeps an undefined value as a text marker even with a binary serializer', () => {
    const encoded = encodeEntry(rawBytes, undefined, CREATED, undefined);
    expect(encoded).toBe(`c1|~|${CREATED}||`);
    expect(decodeEntry(rawBytes, Buffer.from(encoded as string))).toEqual({ value: undefined, createdAt: CREATED, ttlMs: undefined });
  });
});
