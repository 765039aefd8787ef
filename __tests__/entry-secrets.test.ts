/**
 * A serializer that fails, however it fails, never puts the value into an error: not in the message,
 * the cause, the stack or any other property of what reaches the logger.
 */
import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { decodeEntry, encodeEntry } from '../lib/entry.js';
import { CacheSerializationError } from '../lib/errors.js';
import type { Serializer } from '../lib/serializers/serializer.js';
import { thrown } from './helpers/throws.js';

const CARD = 4111111111111111;
const DIGITS = '4111111111111111';

/** Every string reachable from `root` (own properties, enumerable or not, message, stack, cause), deeply. */
function stringsIn(root: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'number' || typeof value === 'bigint') out.push(String(value));
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      out.push(String(key));
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && 'value' in descriptor) walk(descriptor.value);
    }
    if (value instanceof Error) {
      walk(value.message);
      walk(value.stack);
      walk(value.cause);
      walk(value.name);
    }
  };
  walk(root);
  return out;
}

/** A serializer whose `serialize` does `behaviour` with the value it was given. */
function faulty(behaviour: (value: unknown) => unknown, binary = false): Serializer {
  return { name: 'faulty', binary, serialize: (value) => behaviour(value) as string, deserialize: (raw) => raw };
}

const nameWithCard = (): Error => {
  const error = new Error('x');
  error.name = `Card${DIGITS}`;
  return error;
};

const encodeCases: Array<[string, Serializer]> = [
  ['a binary serializer returns the number itself (Buffer.concat quoted it in 0.2)', faulty((v) => (v as { card: number }).card, true)],
  ['a text serializer returns the number itself', faulty((v) => (v as { card: number }).card)],
  ['it returns an object holding the value', faulty((v) => ({ v }))],
  ['it returns an array holding the value', faulty((v) => [v], true)],
  ['it returns null', faulty(() => null, true)],
  ['it returns a promise of the value', faulty((v) => Promise.resolve(v))],
  ['it returns a promise that rejects with the value', faulty((v) => Promise.reject(new Error(JSON.stringify(v))))],
  ['it throws an Error quoting the value, with the value as cause', faulty((v) => {
    throw new TypeError(`bad ${JSON.stringify(v)}`, { cause: v });
  })],
  ['it throws the number', faulty((v) => {
    throw (v as { card: number }).card;
  })],
  ['it throws a string quoting the value', faulty(() => {
    throw `card ${DIGITS}`;
  })],
  ['it throws an object holding the value', faulty((v) => {
    throw { v };
  })],
  ['it throws an Error whose name holds the value', faulty(() => {
    throw nameWithCard();
  })],
  ['it throws an object whose name getter throws the value', faulty(() => {
    throw {
      get name(): never {
        throw new Error(DIGITS);
      },
    };
  })],
];

describe('encode failures of any kind', () => {
  it.each(encodeCases)('keeps the value out when %s', (_what, serializer) => {
    const error = thrown(() => encodeEntry(serializer, { card: CARD }, 1, undefined));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error.message).toMatch(/^cachette: the faulty serializer (could not encode a result|returned)/);
    expect(error.cause).toBeUndefined();
    expect(stringsIn(error).join('\n')).not.toContain(DIGITS);
  });

  it('names what a wrong result was by type only', () => {
    expect(thrown(() => encodeEntry(faulty(() => CARD, true), 1, 1, undefined)).message).toBe(
      'cachette: the faulty serializer returned a number instead of a string or a Uint8Array; the result was not cached',
    );
    expect(thrown(() => encodeEntry(faulty(() => {
      throw CARD;
    }), 1, 1, undefined)).message).toBe('cachette: the faulty serializer could not encode a result (a thrown number)');
  });

  it('still frames a binary serializer that returns a Uint8Array or a string', () => {
    expect(encodeEntry(faulty(() => new Uint8Array([1]), true), 1, 1, undefined)).toEqual(Buffer.from('c1|faulty|1||\x01', 'latin1'));
    expect(encodeEntry(faulty(() => 'ab', true), 1, 1, undefined)).toBe('c1|faulty|1||ab');
  });
});

describe('decode failures of any kind', () => {
  const throwing = (toThrow: () => unknown): Serializer => ({
    name: 'faulty',
    serialize: () => '',
    deserialize: () => {
      throw toThrow();
    },
  });

  it.each<[string, () => unknown]>([
    ['an Error quoting the payload, with a cause', () => new SyntaxError(`Unexpected ${DIGITS}`, { cause: DIGITS })],
    ['the payload itself', () => DIGITS],
    ['an Error whose name holds the payload', nameWithCard],
  ])('keeps the payload out when deserialize throws %s', (_what, toThrow) => {
    const error = thrown(() => decodeEntry(throwing(toThrow), `c1|faulty|1||${DIGITS}`));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(stringsIn(error).join('\n')).not.toContain(DIGITS);
  });
});

describe('through cached(): what the logger receives', () => {
  it.each(encodeCases)('logs and counts a failed encode without the value when %s', async (_what, serializer) => {
    const logged: unknown[] = [];
    const cache = createCache({
      store: { type: 'memory' },
      serializer,
      logger: { warn: (fields, message) => logged.push({ fields, message }), error: (fields, message) => logged.push({ fields, message }) },
    });
    const charge = cached(async (_id: number) => ({ card: CARD }), { cache, name: 'charge' });
    expect(await charge(1)).toEqual({ card: CARD });
    await cache.close();
    expect(charge.stats.errors).toBe(1);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ fields: { kind: 'encode', fn: 'charge' }, message: expect.stringContaining('charge') });
    expect(stringsIn(logged).join('\n')).not.toContain(DIGITS);
  });
});
