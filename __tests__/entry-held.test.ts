import { describe, expect, it } from '@jest/globals';
import { HeldEntry } from '../lib/entry.js';
import { jsonSerializer } from '../lib/serializers/json.js';

describe('HeldEntry', () => {
  it('copies own properties only, as JSON.parse makes them, with Object.prototype polluted', () => {
    Object.defineProperty(Object.prototype, 'injected', { value: 1, writable: true, enumerable: true, configurable: true });
    try {
      const held = new HeldEntry(jsonSerializer, 'c1|json|0||{"neverSeenBefore":{"nested":true}}');
      const value = held.open(false)?.value as Record<string, Record<string, unknown>>;
      expect(Object.getOwnPropertyNames(value)).toEqual(['neverSeenBefore']);
      expect(Object.getOwnPropertyNames(value.neverSeenBefore)).toEqual(['nested']);
    } finally {
      delete (Object.prototype as Record<string, unknown>).injected;
    }
  });

  it('answers a value nested deeper than the copy can recurse by parsing it again', () => {
    const depth = 200_000;
    const held = new HeldEntry(jsonSerializer, `c1|json|0||${'['.repeat(depth)}${']'.repeat(depth)}`);
    let value = held.open(false)?.value;
    let levels = 0;
    while (Array.isArray(value) && value.length > 0) {
      value = value[0];
      levels++;
    }
    expect(Array.isArray(value) && levels === depth - 1).toBe(true);
  });

  it('throws the decode failure of a corrupt payload on every open', () => {
    const held = new HeldEntry(jsonSerializer, 'c1|json|0||{"broken"');
    expect(() => held.open(false)).toThrow(/could not decode a stored entry/);
    expect(() => held.open(true)).toThrow(/could not decode a stored entry/);
  });
});
