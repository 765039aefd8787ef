/** The value-only decoder the hit path uses for functions without stale windows or refresh-ahead. */
import { describe, expect, it } from '@jest/globals';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { jsonSerializer } from '../lib/serializers/json.js';

const valueOnly = (raw: string) => decodeEntry(jsonSerializer, raw, false);

describe('decodeEntry without header numbers', () => {
  it('decodes the value of a c1 entry, null and undefined included', () => {
    expect(valueOnly(encodeEntry(jsonSerializer, { a: 1 }, 1_700_000_000_000, 5000) as string)?.value).toEqual({ a: 1 });
    expect(valueOnly(encodeEntry(jsonSerializer, null, 1, undefined) as string)).toMatchObject({ value: null });
    const none = valueOnly(encodeEntry(jsonSerializer, undefined, 1, 10) as string);
    expect(none).toBeDefined();
    expect(none?.value).toBeUndefined();
  });

  it.each([
    ['a non-digit timestamp', 'c1|json|12x|5000|{}'],
    ['an empty timestamp', 'c1|json||5000|{}'],
    ['a non-digit ttl', 'c1|json|1|5s|{}'],
    ['another serializer', 'c1|msgpack|1|5|{}'],
    ['a serializer name that only starts alike', 'c1|jsonx|1|5|{}'],
    ['a truncated header', 'c1|json|1'],
    ['bytes after an undefined entry', 'c1|~|1|5|x'],
    ['no magic', '{"a":1}'],
  ])('treats %s as a miss', (_what, raw) => {
    expect(valueOnly(raw)).toBeUndefined();
  });

  it('still reads c2 entries in full', () => {
    expect(valueOnly('c2|json|1000|5000|60000|42|{"a":1}')).toEqual({ value: { a: 1 }, createdAt: 1000, ttlMs: 5000, staleMs: 60_000, computeMs: 42 });
  });
});
