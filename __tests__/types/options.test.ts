/**
 * Type tests of cached() options and createCache() config: typed hooks (`ttl(result, args)`,
 * `keyBuilder(...args)`, `skipCache`), duration strings, and misuse as compile errors. Checked by
 * `tsc --noEmit -p .`; the runtime assertions make jest run the file too.
 */
import { describe, expect, it } from '@jest/globals';
import { expectTypeOf } from 'expect-type';
import { cached, createCache, type CacheConfig, type CachedOptions, type Duration, type StoreConfig } from '../../lib/index.js';

interface User {
  id: number;
  premium: boolean;
}

const cache = createCache({ store: { type: 'memory' } });
const getUser = async (id: number, region?: string): Promise<User> => ({ id, premium: id === 1 && region !== 'test' });

describe('ttl', () => {
  it('gives a ttl function the typed result and arguments (premium 60 s, others 20 s)', async () => {
    const seen: string[] = [];
    const f = cached(getUser, {
      cache,
      ttl: (user, args) => {
        expectTypeOf(user).toEqualTypeOf<User>();
        expectTypeOf(args).toEqualTypeOf<[id: number, region?: string]>();
        seen.push(`${user.id}:${args.length}`);
        return user.premium ? '60s' : '20s';
      },
    });
    await f(1);
    expect(seen).toEqual(['1:1']);
  });

  it('accepts numbers and duration strings, and rejects other strings', () => {
    const ok: Duration[] = [1500, 0, Infinity, '500ms', '30s', '5m', '1h', '1d', '1.5s'];
    // @ts-expect-error unknown unit
    const unit: Duration = '5x';
    // @ts-expect-error no unit
    const bare: Duration = '30';
    // @ts-expect-error words are not a duration
    const words: Duration = '5 minutes';
    expect([...ok, unit, bare, words]).toHaveLength(12);
  });

  it('rejects a bad ttl option and a ttl function misusing its result', () => {
    const neverCalled = (): void => {
      // @ts-expect-error '5x' is not a duration
      cached(getUser, { ttl: '5x' });
      // @ts-expect-error the result has no such property
      cached(getUser, { ttl: (user) => (user.vip ? '1m' : '1s') });
      // @ts-expect-error the ttl function must return a duration
      cached(getUser, { ttl: () => '5x' });
      // @ts-expect-error the ttl function must return a duration, not a boolean
      cached(getUser, { ttl: (user) => user.premium });
      // @ts-expect-error the first parameter is the result, not an id
      cached(getUser, { ttl: (id: number) => id });
    };
    expect(typeof neverCalled).toBe('function');
  });

  it('accepts a ttl function that ignores its arguments or returns undefined', () => {
    expectTypeOf(cached(getUser, { cache, ttl: () => undefined })).toBeFunction();
    expectTypeOf(cached(getUser, { cache, ttl: () => 1000 })).toBeFunction();
    expect(cached(getUser, { cache, ttl: (user) => (user.premium ? Infinity : 0) }).keyFor(1)).toBe('getUser:1');
  });
});

describe('keyBuilder and skipCache', () => {
  it('types keyBuilder with the parameters of the function', () => {
    const f = cached(getUser, {
      cache,
      keyBuilder: (id, region) => {
        expectTypeOf(id).toEqualTypeOf<number>();
        expectTypeOf(region).toEqualTypeOf<string | undefined>();
        return `user:${id}:${region ?? 'any'}`;
      },
    });
    expect(f.keyFor(1)).toBe('getUser:user:1:any');
  });

  it('rejects a keyBuilder with wrong parameter types or a non-string result', () => {
    const neverCalled = (): void => {
      // @ts-expect-error the id is a number
      cached(getUser, { keyBuilder: (id: string) => id });
      // @ts-expect-error the region is a string
      cached(getUser, { keyBuilder: (id: number, region: number) => `${id}${region}` });
      // @ts-expect-error a key is a string
      cached(getUser, { keyBuilder: (id) => id });
    };
    expect(typeof neverCalled).toBe('function');
  });

  it('types skipCache with the result and the arguments', async () => {
    const f = cached(getUser, {
      cache,
      name: 'skipping',
      skipCache: (user, args) => {
        expectTypeOf(user).toEqualTypeOf<User>();
        expectTypeOf(args).toEqualTypeOf<[id: number, region?: string]>();
        return !user.premium;
      },
    });
    expect(await f(2)).toEqual({ id: 2, premium: false });
    const neverCalled = (): void => {
      // @ts-expect-error skipCache answers with a boolean
      cached(getUser, { skipCache: () => 'yes' });
    };
    expect(typeof neverCalled).toBe('function');
  });
});

describe('other options', () => {
  it('rejects unknown option names and wrong option types', () => {
    const neverCalled = (): void => {
      // @ts-expect-error misspelled option
      cached(getUser, { ttll: 5 });
      // @ts-expect-error call options are not cached() options
      cached(getUser, { bypassCache: true });
      // @ts-expect-error version is a string or a number
      cached(getUser, { version: true });
      // @ts-expect-error cache must be a Cache
      cached(getUser, { cache: {} });
      // @ts-expect-error updateTtlOnHit is a boolean
      cached(getUser, { updateTtlOnHit: 'yes' });
    };
    expect(typeof neverCalled).toBe('function');
  });

  it('accepts every documented option', () => {
    const options: CachedOptions<typeof getUser> = {
      cache,
      name: 'user',
      ttl: '5m',
      keyBuilder: (id) => String(id),
      namespace: 'ns',
      keyPrefix: 'p',
      version: 2,
      sharedContext: 'users',
      skipCache: (user) => !user.premium,
      updateTtlOnHit: true,
      waitForWrite: false,
    };
    expect(cached(getUser, options).keyFor(3)).toBe('ns:p:users:v2:3');
  });
});

describe('createCache config', () => {
  it('accepts each store form', async () => {
    const forms: StoreConfig[] = [
      { type: 'memory' },
      { type: 'memory', maxEntries: 100 },
      { type: 'redis', url: 'redis://localhost:6379' },
      { type: 'redis', host: 'localhost', port: 6379, username: 'u', password: 'p', db: 1, tls: true, opTimeout: '1s' },
      { name: 'custom', get: () => undefined, set: () => undefined, delete: () => false },
    ];
    expect(forms).toHaveLength(5);
    await createCache({ store: { type: 'memory' }, namespace: 'app', clock: { now: () => 1 } }).close();
  });

  it('rejects wrong store and config types', () => {
    // @ts-expect-error port is a number
    const port: CacheConfig = { store: { type: 'redis', port: '6379' } };
    // @ts-expect-error unknown store type
    const mongo: CacheConfig = { store: { type: 'mongo' } };
    // @ts-expect-error maxEntries is a number
    const entries: CacheConfig = { store: { type: 'memory', maxEntries: '10' } };
    // @ts-expect-error a logger needs warn and error
    const logger: CacheConfig = { logger: { info() {} } };
    // @ts-expect-error unknown config option
    const unknown: CacheConfig = { namespaces: 'x' };
    expect([port, mongo, entries, logger, unknown]).toHaveLength(5);
  });
});
