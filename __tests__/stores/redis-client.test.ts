/**
 * Clients that do not speak the node-redis 5/6 command API are refused at createCache: node-redis 4
 * silently ignores `{ expiration, condition }` on SET (no expiry, no NX).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { CacheConfigError, createCache, RedisStore } from '../../lib/index.js';

/** The public shape of a node-redis 4 client (`RedisClient` of @redis/client 1.x), without a server. */
function nodeRedis4Client() {
  const client = Object.assign(new EventEmitter(), {
    isOpen: false,
    isReady: false,
    commandOptions: (options: object) => options, // v4: a function; v5 replaced it with withCommandOptions
    connect: async () => undefined,
    get: async () => null,
    set: async () => 'OK',
    getEx: async () => null,
    del: async () => 0,
    evalSha: async () => 0,
    eval: async () => 0,
    executeIsolated: async () => undefined,
    quit: async () => 'OK',
    disconnect: async () => undefined,
  });
  return client;
}

describe('a client passed as store.client', () => {
  it('is refused with a CacheConfigError on store.client when it is a node-redis 4 client', () => {
    let error: unknown;
    try {
      createCache({ store: { type: 'redis', client: nodeRedis4Client() as never } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheConfigError);
    expect((error as CacheConfigError).field).toBe('store.client');
    expect((error as Error).message).toMatch(/^cachette: store\.client: a node-redis 4 client is not supported: .*entries would never expire.*redis 5 or later/);
  });

  it('is refused by a RedisStore built directly', () => {
    expect(() => new RedisStore({ client: nodeRedis4Client() as never })).toThrow(/store\.client: a node-redis 4 client is not supported/);
  });

  it('is refused when it lacks the v5/v6 command API for another reason', () => {
    const client = nodeRedis4Client() as Partial<ReturnType<typeof nodeRedis4Client>>;
    delete client.commandOptions;
    expect(() => createCache({ store: { type: 'redis', client: client as never } })).toThrow(/store\.client: a client without the node-redis 5\/6 command API/);
  });

  it('is accepted from node-redis 5/6, and so is one of its proxies', async () => {
    const client = createClient();
    for (const given of [client, client.withTypeMapping({})]) {
      const cache = createCache({ store: { type: 'redis', client: given } });
      expect(cache.health().connection).toBe('idle');
      await cache.close();
    }
  });
});
