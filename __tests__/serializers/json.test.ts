import { describe, expect, it } from '@jest/globals';
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

  it('is lossy in the documented ways: Date to string, Map to {}, undefined properties dropped', () => {
    const date = new Date('2024-01-01T00:00:00.000Z');
    const back = jsonSerializer.deserialize(jsonSerializer.serialize({ date, map: new Map([[1, 2]]), gone: undefined }) as string);
    expect(back).toEqual({ date: '2024-01-01T00:00:00.000Z', map: {} });
  });

  it.each<[string, unknown]>([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 1n],
  ])('throws for %s, which has no JSON form', (_what, value) => {
    expect(() => jsonSerializer.serialize(value)).toThrow(TypeError);
  });

  it('throws on text that is not JSON', () => {
    expect(() => jsonSerializer.deserialize('{"a":')).toThrow(SyntaxError);
  });
});
