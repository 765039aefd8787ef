import { describe, expect, it } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { CacheConfigError, CacheError } from '../lib/errors.js';
import type { CacheConfig } from '../lib/config/cache-config.js';
import type { CachedOptions } from '../lib/config/cached-options.js';
import type { CallOptions } from '../lib/config/call-options.js';
import { resolveCallOptions } from '../lib/config/resolve.js';
import { RedisStore } from '../lib/stores/redis.js';
import { configError, rejection } from './helpers/throws.js';

async function getUser(id: number): Promise<{ id: number }> {
  return { id };
}
const cache = createCache({ store: { type: 'memory' } });

interface NodeRedisOptions {
  socket: Record<string, unknown>;
  username?: string;
  password?: string;
  database?: number;
}

function expectNamed(error: CacheConfigError, field: string, ...details: string[]): void {
  expect(error).toBeInstanceOf(CacheError);
  expect(error.code).toBe('CACHE_ERR_CONFIG');
  expect(error.field).toBe(field);
  expect(error.message).toContain(`cachette: ${field}: `);
  for (const detail of details) expect(error.message).toContain(detail);
  expect(error.issues[0]?.path).toBe(field);
}

describe('cached(fn, options) validation', () => {
  const bad = (options: Record<string, unknown>): CacheConfigError =>
    configError(() => cached(getUser, { cache, ...options } as CachedOptions<typeof getUser>));

  it('rejects a negative ttl with "ttl: must be a non-negative duration" and the value', () => {
    const error = configError(() => cached(getUser, { ttl: -5 }));
    expectNamed(error, 'ttl', 'ttl: must be a non-negative duration', '-5');
  });

  it.each<[string, Record<string, unknown>, string, string[]]>([
    ['cache that is not from createCache()', { cache: {} }, 'cache', ['createCache()']],
    ['empty name', { name: '' }, 'name', ['must not be empty']],
    ['name that is not a string', { name: 5 }, 'name', ['expected a string, received number']],
    ['ttl with an unknown unit', { ttl: '5x' }, 'ttl', ['must be a non-negative duration', '"5x"']],
    ['ttl NaN', { ttl: NaN }, 'ttl', ['NaN']],
    ['ttl object', { ttl: { ms: 5 } }, 'ttl', ['got object']],
    ['negative ttl string', { ttl: '-5s' }, 'ttl', ['"-5s"']],
    ['empty key', { key: '' }, 'key', ['must not be empty']],
    ['keyBuilder that is not a function', { keyBuilder: 'id' }, 'keyBuilder', ['expected a function']],
    ['empty namespace', { namespace: '' }, 'namespace', ['must not be empty']],
    ['keyPrefix that is not a string', { keyPrefix: 3 }, 'keyPrefix', ['expected a string']],
    ['empty keyPrefix', { keyPrefix: '' }, 'keyPrefix', ['must not be empty']],
    ['version object', { version: {} }, 'version', ['expected a string or a number']],
    ['version NaN', { version: NaN }, 'version', ['NaN']],
    ['version Infinity', { version: Infinity }, 'version', ['Infinity']],
    ['empty sharedContext', { sharedContext: '' }, 'sharedContext', ['must not be empty']],
    ['skipCache that is not a function', { skipCache: true }, 'skipCache', ['expected a function']],
    ['updateTtlOnHit that is not a boolean', { updateTtlOnHit: 'yes' }, 'updateTtlOnHit', ['expected a boolean']],
    ['waitForWrite that is not a boolean', { waitForWrite: 1 }, 'waitForWrite', ['expected a boolean, received number']],
  ])('rejects a %s, naming the field', (_what, options, field, details) => {
    expectNamed(bad(options), field, ...details);
  });

  it('rejects an unknown option name', () => {
    expectNamed(bad({ ttlMs: 5 }), 'ttlMs', 'is not a known option');
    expectNamed(bad({ bypassCache: true }), 'bypassCache', 'is not a known option');
  });

  it('rejects key together with keyBuilder', () => {
    expectNamed(bad({ key: 'all', keyBuilder: () => 'x' }), 'keyBuilder', 'cannot be combined with key');
  });

  it('rejects a fn that is not a function', () => {
    const error = configError(() => cached(null as unknown as typeof getUser));
    expect(error.field).toBe('fn');
    expect(error.message).toContain('fn: expected a function');
  });

  it('requires a name when the function has none', () => {
    const error = configError(() => cached(async () => 1));
    expect(error.field).toBe('name');
    expect(error.message).toContain('cachette: name: required');
    expect(cached(async () => 1, { name: 'one' }).keyFor()).toBe('one');
  });

  it('lists a missing name and a non-function fn in issues, like every other config error', () => {
    expect(configError(() => cached(async () => 1)).issues.map((i) => i.path)).toEqual(['name']);
    expect(configError(() => cached(null as unknown as typeof getUser)).issues.map((i) => i.path)).toEqual(['fn']);
  });

  it('reports the first invalid field and lists the others', () => {
    const error = bad({ name: '', ttl: -5, bogus: 1 });
    expect(error.field).toBe('name');
    expect(error.issues.map((i) => i.path)).toEqual(['name', 'ttl', 'bogus']);
    expect(error.message).toContain('(and 2 more: ttl, bogus)');
  });

  it('accepts every valid option', () => {
    const f = cached(getUser, {
      cache,
      name: 'user',
      ttl: '5m',
      keyBuilder: (id) => `u${id}`,
      namespace: 'ns',
      keyPrefix: 'p',
      version: 2,
      sharedContext: 'users',
      skipCache: (user) => user.id < 0,
      updateTtlOnHit: false,
      waitForWrite: false,
    });
    expect(f.keyFor(1)).toBe('ns:p:users:v2:u1');
    expect(() => cached(getUser, { ttl: 0 })).not.toThrow();
    expect(() => cached(getUser, { ttl: Infinity })).not.toThrow();
    expect(() => cached(getUser, { ttl: () => '1s' })).not.toThrow();
    expect(() => cached(getUser, { version: 'beta', key: 'k' })).not.toThrow();
  });
});

describe('createCache(config) validation', () => {
  const bad = (config: unknown): CacheConfigError => configError(() => createCache(config as CacheConfig));

  it.each<[string, unknown, string, string[]]>([
    ['namespace that is empty', { namespace: '' }, 'namespace', ['must not be empty']],
    ['namespace that is not a string', { namespace: 5 }, 'namespace', ['expected a string']],
    ['serializer without methods', { serializer: {} }, 'serializer', ['serialize']],
    ['serializer with a bad name', { serializer: { name: 'Bad Name', serialize: String, deserialize: String } }, 'serializer', ['[a-z]']],
    ['serializer named but not built in', { serializer: 'yaml' }, 'serializer', ["'json', 'rich', 'msgpack'", 'unknown name']],
    ['logger without warn/error', { logger: { info() {} } }, 'logger', ['warn()']],
    ['clock without now()', { clock: { time: () => 0 } }, 'clock', ['now()']],
    ['unknown option', { namespaces: 'x' }, 'namespaces', ['is not a known option']],
    ['store that is a string', { store: 'redis' }, 'store', ["expected { type: 'redis' | 'memory'"]],
    ['store null', { store: null }, 'store', ['received null']],
    ['store of an unknown type', { store: { type: 'mongo' } }, 'store.type', ["expected 'redis' or 'memory'"]],
    ['store object without type or methods', { store: {} }, 'store.type', ["expected 'redis' or 'memory'"]],
  ])('rejects a %s, naming the field', (_what, config, field, details) => {
    expectNamed(bad(config), field, ...details);
  });

  it('rejects a config that is not an object', () => {
    const error = bad(5);
    expect(error.field).toBe('');
    expect(error.message).toContain('cachette: options: ');
  });

  it('accepts a Store object and the memory and redis forms without connecting', async () => {
    const store = { name: 'custom', get: () => undefined, set: () => undefined, delete: () => false };
    expect(createCache({ store }).store).toBe(store);
    expect(createCache({ store: { type: 'memory', maxEntries: 5 } }).store.name).toBe('memory');
    const lazy = createCache({ store: { type: 'redis', url: 'redis://127.0.0.1:1', opTimeout: '1s' } });
    expect(lazy.store.name).toBe('redis');
    await lazy.close();
  });
});

describe('store config validation', () => {
  const bad = (store: unknown): CacheConfigError => configError(() => createCache({ store } as CacheConfig));
  const client = { get() {}, set() {}, connect() {}, withCommandOptions() {} };

  it.each<[string, unknown, string, string[]]>([
    ['redis url with another scheme', { type: 'redis', url: 'http://localhost:6379' }, 'store.url', ['must start with redis://']],
    ['redis url that is not a string', { type: 'redis', url: 6379 }, 'store.url', ['expected a string']],
    ['redis port 0', { type: 'redis', port: 0 }, 'store.port', ['0']],
    ['redis port above 65535', { type: 'redis', port: 70000 }, 'store.port', ['70000']],
    ['redis port that is not an integer', { type: 'redis', port: 1.5 }, 'store.port', ['1.5']],
    ['redis port given as a string', { type: 'redis', port: '6379' }, 'store.port', ['string']],
    ['redis url with a client', { type: 'redis', url: 'redis://h', client }, 'store.client', ['either url or client']],
    ['redis host with a url', { type: 'redis', url: 'redis://h', host: 'h' }, 'store.host', ['cannot be combined with url']],
    ['redis port with a client', { type: 'redis', client, port: 6379 }, 'store.port', ['cannot be combined with client']],
    ['empty redis host', { type: 'redis', host: '' }, 'store.host', ['must not be empty']],
    ['redis host that is not a string', { type: 'redis', host: 5 }, 'store.host', ['host name']],
    ['redis username that is not a string', { type: 'redis', username: 5 }, 'store.username', ['expected a string']],
    ['negative redis db', { type: 'redis', db: -1 }, 'store.db', ['-1']],
    ['redis db that is not a number', { type: 'redis', db: 'x' }, 'store.db', ['string']],
    ['redis db that is not an integer', { type: 'redis', db: 1.5 }, 'store.db', ['1.5']],
    ['redis tls that is a string', { type: 'redis', tls: 'yes' }, 'store.tls', ['tls.connect options']],
    ['negative redis opTimeout', { type: 'redis', opTimeout: -1 }, 'store.opTimeout', ['duration', '-1']],
    ['redis client that is not a client', { type: 'redis', client: {} }, 'store.client', ['node-redis client']],
    ['unknown redis option', { type: 'redis', url: 'redis://h', timeout: 5 }, 'store.timeout', ['is not a known option']],
    ['memory maxEntries 0', { type: 'memory', maxEntries: 0 }, 'store.maxEntries', ['positive integer']],
    ['memory maxEntries that is not an integer', { type: 'memory', maxEntries: 1.5 }, 'store.maxEntries', ['positive integer']],
    ['memory maxEntries given as a string', { type: 'memory', maxEntries: '10' }, 'store.maxEntries', ['positive integer']],
    ['memory maxBytes 0', { type: 'memory', maxBytes: 0 }, 'store.maxBytes', ['positive integer number of bytes', 'got 0']],
    ['memory maxBytes that is not an integer', { type: 'memory', maxBytes: 1.5 }, 'store.maxBytes', ['positive integer number of bytes']],
    ['memory maxBytes given as a string', { type: 'memory', maxBytes: '1mb' }, 'store.maxBytes', ['positive integer number of bytes', 'string']],
    ['memory store with a redis option', { type: 'memory', url: 'redis://h' }, 'store.url', ['is not a known option']],
  ])('rejects a %s, naming the field', (_what, store, field, details) => {
    expectNamed(bad(store), field, ...details);
  });

  it.each<[string, CacheConfig['store'], Record<string, unknown>]>([
    ['a url', { type: 'redis', url: 'redis://127.0.0.1:1' }, { host: '127.0.0.1', port: 1, tls: false }],
    [
      'a rediss url with credentials and a db',
      { type: 'redis', url: 'rediss://user:pw@127.0.0.1:1/2' },
      { host: '127.0.0.1', port: 1, tls: true, username: 'user', password: 'pw', database: 2 },
    ],
    [
      'host, port, credentials, db',
      { type: 'redis', host: '127.0.0.1', port: 1, username: 'u', password: 'p', db: 2, tls: false },
      { host: '127.0.0.1', port: 1, username: 'u', password: 'p', database: 2 },
    ],
    [
      'host, port and tls.connect options',
      { type: 'redis', host: '127.0.0.1', port: 1, tls: { rejectUnauthorized: false } },
      { host: '127.0.0.1', port: 1, tls: true, rejectUnauthorized: false },
    ],
  ])('hands each field of the redis form %s to the client', async (_form, store, expected) => {
    const created = createCache({ store });
    expect(created.store).toBeInstanceOf(RedisStore);
    // What node-redis was given (url forms are parsed into the same fields).
    const options = ((created.store as RedisStore).client as unknown as { options: NodeRedisOptions }).options;
    const { socket, username, password, database } = options;
    const given = { host: socket.host, port: socket.port, tls: socket.tls, rejectUnauthorized: socket.rejectUnauthorized, username, password, database };
    expect(Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined))).toEqual(expected);
    await created.close();
  });
});

describe('passwords never reach error messages', () => {
  const secret = 'hunter2-Secret';
  const cases: Array<[string, unknown]> = [
    ['in a url with the wrong scheme', { type: 'redis', url: `http://user:${secret}@localhost:6379` }],
    ['in a url combined with host', { type: 'redis', url: `redis://:${secret}@localhost:6379`, host: 'localhost' }],
    ['given with a url that already has one', { type: 'redis', url: `redis://:${secret}@localhost:6379`, password: secret }],
    ['given with a client', { type: 'redis', client: { get() {}, set() {}, connect() {}, withCommandOptions() {} }, password: secret }],
    ['next to an unknown option', { type: 'redis', host: 'localhost', password: secret, bogus: true }],
    ['next to an invalid port', { type: 'redis', port: -1, password: secret }],
    ['in a url next to an invalid tls', { type: 'redis', url: `redis://:${secret}@localhost`, tls: 'on' }],
  ];

  it.each(cases)('keeps a password %s out of the message', (_what, store) => {
    const error = configError(() => createCache({ store } as CacheConfig));
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.issues)).not.toContain(secret);
  });

  it('keeps a numeric password (as YAML or env parsing may produce) out of the message', () => {
    const error = configError(() => createCache({ store: { type: 'redis', host: 'localhost', password: 90210417 } } as unknown as CacheConfig));
    expect(error.field).toBe('store.password');
    expect(error.message).not.toContain('90210417');
    expect(JSON.stringify(error.issues)).not.toContain('90210417');
  });
});

describe('call options validation', () => {
  let runs = 0;
  const f = cached(
    async (id: number) => {
      runs++;
      return id;
    },
    { cache, name: 'validated' },
  );

  it.each<[string, Record<string, unknown>, string, string[]]>([
    ['negative ttl', { ttl: -5 }, 'callOptions.ttl', ['must be a non-negative duration', '-5']],
    ['ttl with an unknown unit', { ttl: '5x' }, 'callOptions.ttl', ['"5x"']],
    ['bypassCache that is not a boolean', { bypassCache: 'yes' }, 'callOptions.bypassCache', ['expected a boolean']],
    ['forceRefresh that is not a boolean', { forceRefresh: 1 }, 'callOptions.forceRefresh', ['expected a boolean']],
    ['cacheRead that is not a boolean', { cacheRead: null }, 'callOptions.cacheRead', ['received null']],
    ['cacheWrite that is not a boolean', { cacheWrite: 'no' }, 'callOptions.cacheWrite', ['expected a boolean']],
    ['waitForWrite that is not a boolean', { waitForWrite: 0 }, 'callOptions.waitForWrite', ['expected a boolean']],
  ])('rejects a call with a %s, without running the origin', async (_what, options, field, details) => {
    runs = 0;
    expectNamed(await rejection(f(1, options as CallOptions)), field, ...details);
    expectNamed(await rejection(f.callWith(options as CallOptions, 1)), field, ...details);
    expect(runs).toBe(0);
  });

  it('rejects an unknown call option name given to callWith', async () => {
    expectNamed(await rejection(f.callWith({ bypass: true } as CallOptions, 1)), 'callOptions.bypass', 'is not a known option');
  });

  it('returns a rejected promise rather than throwing synchronously', async () => {
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = f(1, { ttl: -1 });
    }).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(CacheConfigError);
  });
});

describe('resolveCallOptions', () => {
  it.each<[string, CallOptions, { read: boolean; write: boolean; bypass: boolean; refresh: boolean }]>([
    ['no options', {}, { read: true, write: true, bypass: false, refresh: false }],
    ['bypassCache', { bypassCache: true }, { read: false, write: false, bypass: true, refresh: false }],
    ['bypassCache with cacheWrite', { bypassCache: true, cacheWrite: true }, { read: false, write: true, bypass: true, refresh: false }],
    ['bypassCache with forceRefresh', { bypassCache: true, forceRefresh: true }, { read: false, write: false, bypass: true, refresh: false }],
    ['forceRefresh', { forceRefresh: true }, { read: false, write: true, bypass: false, refresh: true }],
    ['forceRefresh without writing', { forceRefresh: true, cacheWrite: false }, { read: false, write: false, bypass: false, refresh: true }],
    ['cacheRead false', { cacheRead: false }, { read: false, write: true, bypass: false, refresh: false }],
    ['cacheWrite false', { cacheWrite: false }, { read: true, write: false, bypass: false, refresh: false }],
    ['explicit false flags', { bypassCache: false, forceRefresh: false }, { read: true, write: true, bypass: false, refresh: false }],
  ])('resolves %s', (_what, options, expected) => {
    expect(resolveCallOptions(options)).toMatchObject(expected);
  });

  it('turns a ttl into milliseconds and passes waitForWrite through', () => {
    expect(resolveCallOptions({ ttl: '5m', waitForWrite: false })).toMatchObject({ ttlMs: 300_000, waitForWrite: false });
    expect(resolveCallOptions({ ttl: 0 }).ttlMs).toBe(0);
    expect(resolveCallOptions({}).ttlMs).toBeUndefined();
    expect(resolveCallOptions({}).waitForWrite).toBeUndefined();
  });
});
