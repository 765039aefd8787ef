/** The envelope tag says which JSON form the payload is in: `json` (plain) or `json+t` (tagged). */
import { describe, expect, it } from '@jest/globals';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { CacheSerializationError } from '../lib/errors.js';
import { jsonSerializer } from '../lib/serializers/json.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import { thrown } from './helpers/throws.js';

const CREATED = 1_700_000_000_000;

/** The 0.2 default serializer, as it was: what an older process reading the same store uses. */
const json02: Serializer = {
  name: 'json',
  serialize(value) {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
    return text;
  },
  deserialize: (raw) => JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8')),
};

const value = { at: new Date('2024-01-01T00:00:00.000Z'), n: 12n };

describe('the tag of the tagged form', () => {
  it('writes a value plain JSON would change under json+t', () => {
    expect(encodeEntry(jsonSerializer, value, CREATED, 5000)).toBe(
      `c1|json+t|${CREATED}|5000|{"at":{"$date":"2024-01-01T00:00:00.000Z"},"n":{"$bigint":"12"}}`,
    );
  });

  it('writes a plain JSON value under json, byte for byte as 0.2 did', () => {
    const plain = { id: 1, name: 'é', tags: ['a'], none: null };
    expect(encodeEntry(jsonSerializer, plain, CREATED, 5000)).toBe(encodeEntry(json02, plain, CREATED, 5000));
    expect(encodeEntry(jsonSerializer, plain, CREATED, 5000, { staleMs: 10, computeMs: 2 })).toBe(
      encodeEntry(json02, plain, CREATED, 5000, { staleMs: 10, computeMs: 2 }),
    );
  });

  it('reads the tagged form back in every decoder: c1 text, c1 value-only, c2 text, c1 and c2 bytes', () => {
    const c1 = encodeEntry(jsonSerializer, value, CREATED, 5000) as string;
    const c2 = encodeEntry(jsonSerializer, value, CREATED, 5000, { staleMs: 10, computeMs: 2 }) as string;
    expect(c2.startsWith('c2|json+t|')).toBe(true);
    expect(decodeEntry(jsonSerializer, c1)).toEqual({ value, createdAt: CREATED, ttlMs: 5000 });
    expect(decodeEntry(jsonSerializer, c1, false)).toEqual({ value, createdAt: 0, ttlMs: undefined });
    expect(decodeEntry(jsonSerializer, c2)).toEqual({ value, createdAt: CREATED, ttlMs: 5000, staleMs: 10, computeMs: 2 });
    expect(decodeEntry(jsonSerializer, Buffer.from(c1))).toEqual({ value, createdAt: CREATED, ttlMs: 5000 });
    expect(decodeEntry(jsonSerializer, Buffer.from(c2))?.value).toEqual(value);
  });

  it('still reads entries 0.1 and 0.2 wrote', () => {
    expect(decodeEntry(jsonSerializer, `c1|json|${CREATED}||{"a":1}`)?.value).toEqual({ a: 1 });
    expect(decodeEntry(jsonSerializer, `c1|json|${CREATED}|10|"2024-01-01T00:00:00.000Z"`, false)?.value).toBe('2024-01-01T00:00:00.000Z');
    expect(decodeEntry(jsonSerializer, `c2|json|${CREATED}|10|5|1|[1,null]`)?.value).toEqual([1, null]);
  });

  it('is a plain miss (no error) for a 0.2 reader, which knows only the json tag', () => {
    expect(decodeEntry(json02, encodeEntry(jsonSerializer, value, CREATED, 5000))).toBeUndefined();
    expect(decodeEntry(json02, encodeEntry(jsonSerializer, value, CREATED, 5000), false)).toBeUndefined();
    expect(decodeEntry(json02, encodeEntry(jsonSerializer, value, CREATED, 5000, { staleMs: 1, computeMs: 1 }))).toBeUndefined();
  });

  it.each([
    ['another suffix', `c1|json+x|${CREATED}||{}`],
    ['a doubled suffix', `c1|json+t+t|${CREATED}||{}`],
    ['another serializer tagged', `c1|jsonx+t|${CREATED}||{}`],
    ['a suffix alone', `c1|+t|${CREATED}||{}`],
    ['a longer name ending alike', `c1|xjson+t|${CREATED}||{}`],
  ])('treats %s as foreign (a miss)', (_what, raw) => {
    expect(decodeEntry(jsonSerializer, raw)).toBeUndefined();
    expect(decodeEntry(jsonSerializer, raw, false)).toBeUndefined();
    expect(decodeEntry(jsonSerializer, Buffer.from(raw))).toBeUndefined();
  });

  it('keeps the tagged form when the serializer is spread under another name', () => {
    const renamed: Serializer = { ...jsonSerializer, name: 'json-v2' };
    const raw = encodeEntry(renamed, value, CREATED, undefined) as string;
    expect(raw.startsWith('c1|json-v2+t|')).toBe(true);
    expect(decodeEntry(renamed, raw)?.value).toEqual(value);
    expect(decodeEntry(jsonSerializer, raw)).toBeUndefined();
  });

  it('reports a corrupt tagged payload as a decode failure without its text', () => {
    const error = thrown(() => decodeEntry(jsonSerializer, `c1|json+t|${CREATED}||{"$regexp":"4111111111111111"}`));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error.message).toBe('cachette: the json serializer could not decode a stored entry (SyntaxError)');
    const unparsable = thrown(() => decodeEntry(jsonSerializer, `c1|json+t|${CREATED}||{"card":4111111111111111`, false));
    expect(`${unparsable.message}${unparsable.stack}`).not.toContain('4111');
  });
});

describe('refusals from the default codec', () => {
  it('passes the codec refusal on as it is: type and position, no value', () => {
    class Card {
      constructor(readonly number = '4111111111111111') {}
    }
    const error = thrown(() => encodeEntry(jsonSerializer, { cards: [new Card()] }, CREATED, undefined));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error.message).toBe(
      'cachette: the json serializer cannot store an instance of Card (at result › property › array element); return plain data or use a custom serializer',
    );
  });

  it('reduces an error thrown while the value is walked (a getter) to its type', () => {
    const hostile = {
      get card(): never {
        throw new RangeError('card 4111111111111111 is secret');
      },
    };
    const error = thrown(() => encodeEntry(jsonSerializer, hostile, CREATED, undefined));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error.message).toBe('cachette: the json serializer could not encode a result (RangeError)');
    expect(error.cause).toBeUndefined();
  });
});
