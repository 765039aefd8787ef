/**
 * createCache({ breaker }): what is accepted, and messages that name the field.
 */
import { describe, expect, it } from '@jest/globals';
import { createCache, type CacheConfig } from '../lib/index.js';
import { configError } from './helpers/throws.js';

const redis = { type: 'redis', url: 'redis://127.0.0.1:1' } as const;

describe('breaker option', () => {
  it.each<[string, CacheConfig['breaker']]>([
    ['true', true],
    ['false', false],
    ['an empty object', {}],
    ['a threshold', { threshold: 1 }],
    ['a cool-down in ms', { cooldown: 500 }],
    ['a cool-down as a string', { threshold: 10, cooldown: '30s' }],
  ])('accepts %s', async (_, breaker) => {
    const cache = createCache({ store: redis, breaker });
    expect(cache.health()).toEqual({ store: 'redis', state: 'closed', connection: 'idle', consecutiveFailures: 0, opens: 0, ok: false });
    await cache.close();
  });

  it.each<[string, unknown, string, string]>([
    ['a zero threshold', { threshold: 0 }, 'breaker.threshold', 'must be a positive integer, got 0'],
    ['a fractional threshold', { threshold: 2.5 }, 'breaker.threshold', 'must be a positive integer, got 2.5'],
    ['an infinite threshold', { threshold: Infinity }, 'breaker.threshold', 'must be a positive integer'],
    ['a threshold given as a string', { threshold: '5' }, 'breaker.threshold', 'must be a positive integer'],
    ['a zero cool-down', { cooldown: 0 }, 'breaker.cooldown', 'must be a positive duration'],
    ['a negative cool-down', { cooldown: -1 }, 'breaker.cooldown', 'must be a positive duration'],
    ['a cool-down no timer holds', { cooldown: '30d' }, 'breaker.cooldown', 'must be a positive duration of at most'],
    ['an unknown field', { thresold: 3 }, 'breaker.thresold', 'is not a known option'],
    ['a number', 5, 'breaker', 'expected { threshold?, cooldown? } or a boolean, received 5'],
    ['null', null, 'breaker', 'expected { threshold?, cooldown? } or a boolean'],
  ])('rejects %s, naming the field', (_, breaker, field, detail) => {
    const error = configError(() => createCache({ store: redis, breaker: breaker as never }));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`cachette: ${field}: ${detail}`);
  });
});
