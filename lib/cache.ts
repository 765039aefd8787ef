/**
 * The cache handle: one store, one serializer, a namespace and a logger, shared by many cached
 * functions. The only module that picks a store implementation from configuration.
 * @module
 */
import { guardedClock, systemClock, type Clock } from './clock.js';
import { describeReceived, toMs } from './duration.js';
import { CacheStoreError } from './errors.js';
import { Flights } from './flight.js';
import { createQuietLogger, type FailureFields, type Logger } from './log.js';
import { cacheConfigSchema, type BreakerConfig, type CacheConfig, type StoreConfig } from './config/cache-config.js';
import { parseOrThrow } from './config/parse.js';
import { resolveBreaker } from './config/resolve.js';
import { DEFAULT_MAX_ENTRIES, DEFAULT_OP_TIMEOUT_MS } from './defaults.js';
import { jsonSerializer } from './serializers/json.js';
import type { Serializer } from './serializers/serializer.js';
import { MemoryStore } from './stores/memory.js';
import { callQuietly, type BreakerOptions, type ConnectionState, type StoreHealth } from './stores/breaker.js';
import type { RedisConnection } from './stores/redis-client.js';
import type { RedisClusterOptions } from './stores/redis-cluster.js';
import { RedisStore } from './stores/redis.js';
import type { Store } from './stores/store.js';

/** What {@link Cache.health} returns: the store's health, with `connection` and `ok` always set. */
export interface CacheHealth extends StoreHealth {
  /** Where the connection stands (`'ready'` for stores without one, `'closed'` after `cache.close()`). */
  readonly connection: ConnectionState;
  /** `true` only when `connection` is `'ready'` and the breaker's `state` is `'closed'`: read this one field in a readiness check. */
  readonly ok: boolean;
}

/** Marks objects made by `createCache`, so the `cache` option can be validated without `instanceof`. */
export const cacheBrand: unique symbol = Symbol.for('cachette.cache');

/**
 * A cache: where cached functions keep their entries. Create one with {@link createCache} and pass
 * it as the `cache` option of {@link cached}.
 */
export class Cache {
  /** @internal */
  readonly [cacheBrand] = true;
  /** First segment of every key of functions using this cache (unless they override it). */
  readonly namespace: string | undefined;
  /** The store entries live in. */
  readonly store: Store;
  /** How values are encoded for the store. */
  readonly serializer: Serializer;
  /** @internal */
  readonly logger: Logger;
  /** @internal */
  readonly clock: Clock;
  /** @internal concurrent misses of one key share one origin run, across every function of this cache. */
  readonly flights = new Flights();
  readonly #ownsStore: boolean;
  // A count, not a set of promises: tracking sits on every miss, and one shared settle handler
  // allocates nothing per write.
  #pending = 0;
  #drained: Array<() => void> = [];
  readonly #settled = (): void => {
    this.#pending--;
    if (this.#pending === 0) for (const wake of this.#drained.splice(0)) wake();
  };
  #closing: Promise<void> | undefined;

  /** @internal use {@link createCache}. */
  constructor(config: CacheConfig) {
    this.namespace = config.namespace;
    this.serializer = config.serializer ?? jsonSerializer;
    this.logger = config.logger ?? createQuietLogger();
    this.clock = guardedClock(config.clock ?? systemClock, (received) =>
      this.report(
        { kind: 'clock', err: new RangeError(`clock.now() returned ${describeReceived(received)}`) },
        'cachette: the cache clock returned an invalid time; using Date.now() instead',
      ),
    );
    const { store, owned } = openStore(config.store, this, config.breaker);
    this.store = store;
    this.#ownsStore = owned;
  }

  /** Cache writes that have not finished yet (those of `waitForWrite: false` calls included). */
  get pendingWrites(): number {
    return this.#pending;
  }

  /**
   * The store, now: its connection (`connection`: `'idle'` before first use, `'connecting'`,
   * `'ready'`, `'reconnecting'`, `'closed'` after {@link Cache.close}) and its circuit breaker
   * (`state`): whether calls go to the store (`'closed'`), skip it (`'open'`), or one probe is
   * deciding (`'half-open'`). `ok` sums them up for a readiness check: `true` only when `connection`
   * is `'ready'` and `state` is `'closed'`, so it is `false` before the first connection, while
   * Redis is down or skipped, and after `close()`. A store without a breaker (memory, your own store
   * unless it implements `health()`) always has `state: 'closed'`, and `connection: 'ready'` until
   * the cache is closed.
   *
   * @example
   * ```ts
   * cache.health(); // { store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 0, connection: 'idle', ok: false }
   * cache.health(); // { store: 'redis', state: 'open', consecutiveFailures: 5, openedAt: 1764000000000, opens: 1, connection: 'reconnecting', ok: false }
   * ```
   */
  health(): CacheHealth {
    const health = this.store.health?.() ?? { store: this.store.name, state: 'closed', consecutiveFailures: 0, opens: 0 };
    const connection: ConnectionState = this.#closing !== undefined ? 'closed' : (health.connection ?? 'ready');
    return { ...health, connection, ok: connection === 'ready' && health.state === 'closed' };
  }

  /**
   * Open the store's connection now and resolve once it answers, to fail fast at start-up. Optional:
   * calls connect on first use, and fail open (answer from the origin) whether or not this was called
   * or succeeded. Resolves at once for the memory store and for a store of your own without `connect()`.
   *
   * @example
   * ```ts
   * const cache = createCache({ store: { type: 'redis', url: process.env.REDIS_URL! } });
   * await cache.connect(); // rejects: "cachette: could not connect to redis: wrong password or user (WRONGPASS)"
   * ```
   * @throws {CacheStoreError} (rejects) when the connection fails or times out (4 × `opTimeout`, at
   * least 1 s), or after {@link Cache.close}; the message says why, never with the password.
   */
  async connect(): Promise<void> {
    if (this.#closing !== undefined) throw new CacheStoreError(`cachette: cannot connect: the cache was closed`, this.store.name);
    await this.store.connect?.();
  }

  /**
   * Wait for pending writes (background ones included), then close what this cache opened (a Redis connection it
   * created). A client or store you passed in is left open. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#pending > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
      if (this.#ownsStore) await this.store.close?.();
    })();
    return this.#closing;
  }

  /** @internal keep a background write until it settles, so `close()` can wait for it. */
  track(write: Promise<unknown>): void {
    this.#pending++;
    write.then(this.#settled, this.#settled);
  }

  /**
   * @internal report a cache-layer failure; never throws and never rejects: a logger that throws,
   * or whose `warn` is `async` and rejects, must not turn a cache failure into a failed call or an
   * unhandled rejection.
   */
  report(fields: FailureFields, message: string): void {
    callQuietly(this.#warn, { ...fields }, message);
  }

  readonly #warn = (fields: Record<string, unknown>, message: string): unknown => this.logger.warn(fields, message);
}

/**
 * Create a cache. Returns synchronously: a Redis connection opens on first use and reconnects in
 * the background.
 *
 * @example
 * ```ts
 * const cache = createCache({ store: { type: 'redis', url: 'redis://localhost:6379' }, namespace: 'app' });
 * const getUser = cached(fetchUser, { cache, ttl: '5m' });
 * // …
 * await cache.close();
 * ```
 * @throws {CacheConfigError} when an option is invalid; the message names the field.
 */
export function createCache(config: CacheConfig = {}): Cache {
  return new Cache(parseOrThrow(cacheConfigSchema, config) as CacheConfig);
}

let processDefault: Cache | undefined;

/** The process-wide memory cache used by `cached()` without a `cache` option. */
export function defaultCache(): Cache {
  processDefault ??= new Cache({});
  return processDefault;
}

function openStore(config: StoreConfig | undefined, cache: Cache, breaker: BreakerConfig | boolean | undefined): { store: Store; owned: boolean } {
  if (config === undefined) return { store: new MemoryStore({ clock: cache.clock }), owned: true };
  if (!('type' in config) || (config.type !== 'redis' && config.type !== 'memory')) {
    return { store: config as Store, owned: false };
  }
  if (config.type === 'memory') return { store: new MemoryStore({ maxEntries: config.maxEntries ?? DEFAULT_MAX_ENTRIES, clock: cache.clock }), owned: true };
  const { type: _type, opTimeout, ...connection } = config;
  const store = new RedisStore({
    ...(connection as RedisConnection | { cluster: RedisClusterOptions }),
    opTimeoutMs: opTimeout === undefined ? DEFAULT_OP_TIMEOUT_MS : toMs(opTimeout),
    binary: cache.serializer.binary === true,
    onConnectionError: (err) => cache.report({ kind: 'connection', store: 'redis', err }, 'cachette: redis connection error'),
    onRecovery: ({ downMs, skipped }) =>
      cache.report(
        { kind: 'recovery', store: 'redis', err: undefined, downMs, skipped },
        `cachette: redis is back after ${downMs} ms; ${skipped} operations skipped it meanwhile (counted in stats.skipped)`,
      ),
    onUseAfterClose: () =>
      cache.report(
        { kind: 'closed', store: 'redis', err: undefined },
        'cachette: redis was used after cache.close(); calls go straight to the origin (counted in stats.skipped)',
      ),
    breaker: breakerOptions(breaker, cache),
  });
  return { store, owned: true };
}

function breakerOptions(config: BreakerConfig | boolean | undefined, cache: Cache): BreakerOptions | false {
  const settings = resolveBreaker(config);
  if (settings === false) return false;
  const { threshold, cooldownMs } = settings;
  return {
    threshold,
    cooldownMs,
    clock: cache.clock,
    // One line per opening, never per skipped call.
    onOpen: (health, err) =>
      cache.report(
        { kind: 'breaker', store: health.store, err },
        `cachette: ${health.store} circuit breaker opened after ${health.consecutiveFailures} consecutive failures; calls skip ${health.store} for ${cooldownMs} ms`,
      ),
  };
}
