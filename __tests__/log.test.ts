import { describe, expect, it, jest } from '@jest/globals';
import { createCache } from '../lib/cache.js';
import { cached } from '../lib/cached.js';
import { createQuietLogger } from '../lib/log.js';
import { CircuitBreaker } from '../lib/stores/breaker.js';
import type { Store } from '../lib/stores/store.js';

/** A store whose every operation fails. */
const brokenStore: Store = {
  name: 'broken',
  get: () => Promise.reject(new Error('store unreachable')),
  set: () => Promise.reject(new Error('store unreachable')),
  delete: () => Promise.reject(new Error('store unreachable')),
};

describe('createQuietLogger', () => {
  it('prints the first failure of each kind once, with the error name and message', () => {
    const lines: string[] = [];
    const logger = createQuietLogger((line) => lines.push(line));
    logger.warn({ kind: 'read', err: new TypeError('boom') }, 'cache read failed');
    logger.warn({ kind: 'read', err: new TypeError('boom again') }, 'cache read failed');
    logger.warn({ kind: 'write', err: new Error('nope') }, 'cache write failed');
    logger.warn({ kind: 'write', err: new Error('nope') }, 'cache write failed');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^cache read failed: TypeError: boom \(.*\bread\b.*stats/);
    expect(lines[1]).toMatch(/^cache write failed: Error: nope \(.*\bwrite\b.*stats/);
  });

  it('prints the first schema failure once, pointing at stats.invalid (they are not errors)', () => {
    const lines: string[] = [];
    const logger = createQuietLogger((line) => lines.push(line));
    logger.warn({ kind: 'schema', fn: 'a', err: new Error('at name') }, 'a cached value failed the schema');
    logger.warn({ kind: 'schema', fn: 'b', err: new Error('at id') }, 'a cached value failed the schema');
    expect(lines).toEqual(['a cached value failed the schema: Error: at name (only the first schema failure is logged for this cache; calls count theirs in stats.invalid)']);
  });

  it('shares the once-per-kind memory between warn and error', () => {
    const lines: string[] = [];
    const logger = createQuietLogger((line) => lines.push(line));
    logger.error({ kind: 'decode', err: new Error('x') }, 'decode failed');
    logger.warn({ kind: 'decode', err: new Error('x') }, 'decode failed');
    expect(lines).toHaveLength(1);
  });

  it('prints no error part when err is not an Error', () => {
    const lines: string[] = [];
    createQuietLogger((line) => lines.push(line)).warn({ kind: 'ttl', err: 'text' }, 'ttl failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ttl failed \(/);
  });

  it('uses the message as the kind when no kind is given', () => {
    const lines: string[] = [];
    const logger = createQuietLogger((line) => lines.push(line));
    logger.warn({}, 'first');
    logger.warn({}, 'first');
    logger.warn({}, 'second');
    expect(lines).toHaveLength(2);
  });

  it('writes to console.warn by default', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      createQuietLogger().warn({ kind: 'read', err: new Error('x') }, 'read failed');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toContain('read failed: Error: x');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('the default logger of a cache', () => {
  it('prints one line for many failed reads and writes of the same kinds, and counts them all', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const cache = createCache({ store: brokenStore });
      const f = cached(async (secretArg: string) => `value-of-${secretArg}`, { cache, name: 'lookup' });
      for (let i = 0; i < 5; i++) expect(await f(`arg-${i}`)).toBe(`value-of-arg-${i}`);
      expect(f.stats.errors).toBe(10); // 5 reads + 5 writes
      expect(warn).toHaveBeenCalledTimes(2); // one read line, one write line
      const printed = warn.mock.calls.map((call) => String(call[0])).join('\n');
      expect(printed).toContain('cache read failed');
      expect(printed).toContain('cache write failed');
      expect(printed).not.toContain('arg-');
      expect(printed).not.toContain('value-of');
    } finally {
      warn.mockRestore();
    }
  });

  it('gives each cache its own once-per-kind memory', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (const name of ['a', 'b']) {
        const f = cached(async () => 1, { cache: createCache({ store: brokenStore }), name });
        await f();
      }
      expect(warn).toHaveBeenCalledTimes(4);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('a logger passed to createCache', () => {
  it('receives structured fields without values or arguments, pino style', async () => {
    const calls: Array<[Record<string, unknown>, string]> = [];
    const logger = { warn: (fields: Record<string, unknown>, message: string) => calls.push([fields, message]), error() {} };
    const cache = createCache({ store: brokenStore, logger });
    const f = cached(async (id: number) => ({ id, secret: 'payload-secret' }), { cache, name: 'getThing' });
    await f(424242);
    expect(calls.map(([fields, message]) => [fields.kind, fields.fn, fields.store, message])).toEqual([
      ['read', 'getThing', 'broken', 'cachette: cache read failed; calling the origin'],
      ['write', 'getThing', 'broken', 'cachette: cache write failed (its invalidation records could not be read)'],
    ]);
    expect(calls.every(([fields]) => fields.err instanceof Error)).toBe(true);
    const text = JSON.stringify(calls.map(([fields, message]) => ({ ...fields, err: String(fields.err), message })));
    expect(text).not.toContain('424242');
    expect(text).not.toContain('payload-secret');
  });

  it('cannot fail a call by throwing', async () => {
    const logger = {
      warn() {
        throw new Error('logger broke');
      },
      error() {
        throw new Error('logger broke');
      },
    };
    const cache = createCache({ store: brokenStore, logger });
    const f = cached(async () => 'answer', { cache, name: 'robust' });
    expect(await f()).toBe('answer');
    expect(f.stats.errors).toBe(2);
  });
});

describe('a logger that fails', () => {
  it('cannot cause an unhandled rejection or fail a call when its warn() is async and rejects', async () => {
    let warned = 0;
    const logger = {
      async warn() {
        warned++;
        throw new Error('log shipper down');
      },
      async error() {
        throw new Error('log shipper down');
      },
    };
    const cache = createCache({ store: brokenStore, logger });
    const f = cached(async () => 'answer', { cache, name: 'robust' });
    expect(await f()).toBe('answer');
    expect(await f.invalidate().catch((error: unknown) => (error as Error).message)).toBe('store unreachable');
    expect(warned).toBe(3); // read, write, delete: each rejection was handled (the setup file fails on unhandled ones)
    expect(f.stats.errors).toBe(3);
  });

  it('cannot fail the breaker when its onOpen listener rejects or throws', async () => {
    for (const onOpen of [() => Promise.reject(new Error('async listener')), () => {
      throw new Error('sync listener');
    }]) {
      const breaker = new CircuitBreaker('redis', { threshold: 2, onOpen });
      breaker.failed(new Error('down'));
      breaker.failed(new Error('down'));
      expect(breaker.state).toBe('open');
    }
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('the default one swallows a throwing sink', () => {
    const logger = createQuietLogger(() => {
      throw new Error('stdout closed');
    });
    expect(() => logger.warn({ kind: 'read', err: new Error('x') }, 'read failed')).not.toThrow();
  });
});

describe('the default logger across outages', () => {
  it('writes one line per outage and one per recovery, and re-arms store failures after each recovery', () => {
    const lines: string[] = [];
    const logger = createQuietLogger((line) => lines.push(line));
    const down = { kind: 'connection', store: 'redis', err: new Error('Socket closed unexpectedly') };
    logger.warn({ kind: 'write', store: 'redis', err: new Error('OOM') }, 'cachette: cache write failed');
    logger.warn({ kind: 'write', store: 'redis', err: new Error('OOM') }, 'cachette: cache write failed');
    logger.warn(down, 'cachette: redis connection error');
    logger.warn({ kind: 'read', store: 'redis', err: new Error('x') }, 'cachette: cache read failed; calling the origin');
    logger.warn({ kind: 'breaker', store: 'redis', err: new Error('x') }, 'cachette: redis circuit breaker opened');
    logger.warn(down, 'cachette: redis connection error');
    logger.warn({ kind: 'recovery', store: 'redis', err: undefined }, 'cachette: redis is back after 10 ms; 4 operations skipped it meanwhile (counted in stats.skipped)');
    logger.warn({ kind: 'write', store: 'redis', err: new Error('OOM') }, 'cachette: cache write failed');
    logger.warn({ kind: 'breaker', store: 'redis', err: new Error('timeout') }, 'cachette: redis circuit breaker opened');
    logger.warn({ kind: 'recovery', store: 'redis', err: undefined }, 'cachette: redis is back after 20 ms; 0 operations skipped it meanwhile (counted in stats.skipped)');
    logger.warn({ kind: 'closed', store: 'redis', err: undefined }, 'cachette: redis was used after cache.close(); calls go straight to the origin (counted in stats.skipped)');
    logger.warn({ kind: 'closed', store: 'redis', err: undefined }, 'cachette: redis was used after cache.close(); calls go straight to the origin (counted in stats.skipped)');
    expect(lines).toEqual([
      'cachette: cache write failed: Error: OOM (only the first write failure is logged until redis has an outage and recovers; calls count theirs in stats.errors)',
      'cachette: redis connection error: Error: Socket closed unexpectedly (redis is down: further failures are counted in stats.errors and stats.skipped, not logged, until it is back)',
      'cachette: redis is back after 10 ms; 4 operations skipped it meanwhile (counted in stats.skipped)',
      'cachette: cache write failed: Error: OOM (only the first write failure is logged until redis has an outage and recovers; calls count theirs in stats.errors)',
      'cachette: redis circuit breaker opened: Error: timeout (redis is down: further failures are counted in stats.errors and stats.skipped, not logged, until it is back)',
      'cachette: redis is back after 20 ms; 0 operations skipped it meanwhile (counted in stats.skipped)',
      'cachette: redis was used after cache.close(); calls go straight to the origin (counted in stats.skipped)',
    ]);
  });
});
