import { describe, expect, it } from '@jest/globals';
import { CacheSerializationError } from '../../lib/errors.js';
import { jsonSerializer } from '../../lib/serializers/json.js';

describe('jsonSerializer', () => {
  it('is a text serializer named json', () => {
    expect(jsonSerializer.name).toBe('json');
    expect(jsonSerializer.binary).toBeFalsy();
  });

  it('writes plain JSON and reads it back', () => {
    const value = { id: 1, tags: ['a'], nested: { ok: true, none: null } };
    const text = jsonSerializer.serialize(value);
    expect(text).toBe('{"id":1,"tags":["a"],"nested":{"ok":true,"none":null}}');
    expect(jsonSerializer.deserialize(text as string)).toEqual(value);
  });

  it('reads JSON given as a Buffer', () => {
    expect(jsonSerializer.deserialize(Buffer.from('{"name":"é"}'))).toEqual({ name: 'é' });
  });

  it.each<[string, unknown]>([
    ['a Date', new Date(0)],
    ['a Map', new Map([[1, 2]])],
    ['a property holding undefined', { gone: undefined }],
    ['a bigint', 1n],
    ['NaN', NaN],
  ])('refuses %s when called directly, since only an entry can record the tagged form', (_what, value) => {
    expect(() => jsonSerializer.serialize(value)).toThrow(CacheSerializationError);
    expect(() => jsonSerializer.serialize(value)).toThrow(/only a cache entry can record/);
  });

  it.each<[string, unknown]>([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a class instance', new URL('https://example.com')],
  ])('refuses %s, which no form holds', (_what, value) => {
    expect(() => jsonSerializer.serialize(value)).toThrow(/cannot store/);
  });

  it('throws on text that is not JSON', () => {
    expect(() => jsonSerializer.deserialize('{"a":')).toThrow(SyntaxError);
  });
});
