/**
 * The cache handle: one store, one serializer, a namespace and a logger, shared by many cached
 * functions. The only module that picks a store implementation from configuration.
 * @module
 */
import { guardedClock, systemClock, type Clock } from './clock.js';
import { describeReceived, toMs } from './duration.js';
import { CacheStoreError, CacheUnavailableError } from './errors.js';
import { generationKey, Generations, invalidateRecords, tagRecordKey, tagsProblem, type RunScopeLike } from './invalidation.js';
import { Flights } from './flight.js';
import { createQuietLogger, type FailureFields, type Logger } from './log.js';
import { cacheConfigSchema, type BreakerConfig, type CacheConfig, type SerializerName, type StoreConfig } from './config/cache-config.js';
import { configError, parseOrThrow } from './config/parse.js';
import { resolveBreaker } from './config/resolve.js';
import { DEFAULT_CLEAR_POLL_MS, DEFAULT_COMPRESSION, DEFAULT_MAX_ENTRIES, DEFAULT_OP_TIMEOUT_MS, TAG_RECORD_TTL_MS } from './defaults.js';
import { jsonSerializer } from './serializers/json.js';
import { compressing } from './serializers/compression.js';
import { msgpackSerializer } from './serializers/msgpack.js';
import { richSerializer } from './serializers/rich.js';
import type { Serializer } from './serializers/serializer.js';
import { MemoryStore } from './stores/memory.js';
import { callQuietly, type BreakerOptions, type ConnectionState, type StoreHealth } from './stores/breaker.js';
import type { RedisConnection } from './stores/redis-client.js';
import type { RedisClusterOptions } from './stores/redis-cluster.js';
import { RedisStore } from './stores/redis.js';
import type { KeyWatch, Store } from './stores/store.js';
import { Tier, type TierHealth } from './tier.js';
import { publishBreaker, publishInvalidate, publishL1, type InvalidateEvent } from './observe.js';
import { createStats, type CacheStats } from './stats.js';

/** What {@link Cache.health} returns: the store's health, with `connection` and `ok` always set. */
export interface CacheHealth extends StoreHealth {
  /** Where the connection stands (`'ready'` for stores without one, `'closed'` after `cache.close()`). */
  readonly connection: ConnectionState;
  /** `true` only when `connection` is `'ready'` and the breaker's `state` is `'closed'`: read this one field in a readiness check. */
  readonly ok: boolean;
  /** The in-process tier (`l1` option): whether it serves (`state: 'ready'`), what it holds, how often it was emptied. */
  readonly l1?: TierHealth;
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
  /** @internal what entries are written with: the serializer, wrapped to compress when `compression` is set. */
  readonly codec: Serializer;
  /** @internal */
  readonly logger: Logger;
  /** @internal */
  readonly clock: Clock;
  /** @internal concurrent misses of one key share one origin run, across every function of this cache. */
  readonly flights = new Flights();
  /** @internal the clear generations this process has seen (`clear()`, `f.clear()`). */
  readonly generations: Generations;
  /** @internal the in-process tier (`l1`), or `undefined` without one. */
  readonly tier: Tier | undefined;
  /** The prefix of every key the tier's watch covers (the namespace, or every key without one). */
  readonly #tierPrefix: string;
  readonly #watch: KeyWatch | undefined;
  /** Per-call ttl extensions sent for tier hits, by key: the next ttl to send once the one in flight is answered. */
  readonly #extending = new Map<string, { next: number | undefined }>();
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
    this.serializer = pickSerializer(config.serializer);
    const compression = config.compression;
    this.codec =
      compression === undefined ? this.serializer : compressing(this.serializer, { threshold: compression.threshold, algorithm: compression.algorithm ?? DEFAULT_COMPRESSION });
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
    this.generations = new Generations({
      store,
      pollMs: config.clearPollInterval === undefined ? DEFAULT_CLEAR_POLL_MS : (toMs(config.clearPollInterval) as number),
      onPollError: (err) => this.#generationsFailed(err),
    });
    this.#tierPrefix = this.namespace ?? '';
    if (config.l1 === undefined) {
      this.tier = undefined;
      this.#watch = undefined;
    } else {
      const l1 = config.l1;
      const tier = new Tier({
        maxEntries: l1.maxEntries,
        maxBytes: l1.maxBytes,
        ttlMs: l1.ttl === undefined ? undefined : toMs(l1.ttl),
        values: l1.values ?? 'shared',
        now: () => this.clock.now(),
        serializer: this.codec,
      });
      this.tier = tier;
      if (store.watchKeys === undefined || store.getWithExpiry === undefined) throw configError('l1', 'needs a store that can watch keys (a Redis store)');
      this.#watch = store.watchKeys(this.#tierPrefix, {
        changed: (key) => {
          const dropped = tier.changed(key);
          if (key === null) publishL1(() => ({ event: 'flush', namespace: this.namespace }));
          else publishL1(() => ({ event: 'changed', namespace: this.namespace, dropped }));
          // A clear generation changed (cache.clear() or f.clear() somewhere): serve nothing from the
          // tier until it is re-read, since entries are judged against it.
          if (key === null || key.endsWith('|gen')) this.#reloadGenerations(tier);
        },
        state: (state) => {
          const was = tier.state;
          tier.state = state;
          if (state !== was) publishL1(() => ({ event: state, namespace: this.namespace }));
        },
        error: (err) =>
          this.report({ kind: 'l1', store: store.name, err }, 'cachette: the l1 tracking connection failed; the in-process tier is emptied and bypassed until it is back'),
      });
    }
  }

  /** @internal whether the tier may serve keys starting with `head` (its watch covers them). */
  tierCovers(head: string): boolean {
    return this.tier !== undefined && head.startsWith(this.#tierPrefix);
  }

  /** Re-read the clear generations now, serving nothing from the tier until done (retried every poll interval). */
  #reloadGenerations(tier: Tier): void {
    tier.hold();
    const attempt = (): Promise<void> => {
      if (this.#closing !== undefined) {
        tier.release();
        return Promise.resolve();
      }
      return this.generations.pollNow().then(
        () => tier.release(),
        (err: unknown) => {
          this.#generationsFailed(err);
          setTimeout(attempt, this.generations.pollMs).unref?.();
        },
      );
    };
    // Store reads meanwhile wait for this first attempt, so they judge entries by the new generation.
    const first = attempt();
    this.reloading = first;
    void first.then(() => {
      if (this.reloading === first) this.reloading = undefined;
    });
  }

  /** A re-read of the clear generations failed: as for calls, a store known to be skipped (breaker open, store closed) is not a new failure. */
  #generationsFailed(err: unknown): void {
    if (!(err instanceof CacheUnavailableError)) this.report({ kind: 'read', store: this.store.name, err }, 'cachette: re-reading the clear generations failed; the last ones read stay in use');
  }

  /** @internal the re-read of the clear generations announced as changed, while in flight (never rejects). */
  reloading: Promise<void> | undefined;

  /**
   * @internal extend `key`'s TTL in the store to `ttlMs` for a tier hit with a per-call `ttl`, in the
   * background. Coalesced per key: while one is in flight, later ones wait and only the newest is sent.
   */
  extendInTier(key: string, ttlMs: number): void {
    const tier = this.tier as Tier;
    // Each extension makes every other process drop its copy: none while the entry is known to live
    // long enough, and each one reaches a sixteenth further, so a key hit without pause is extended
    // about once per ttl/16 per process, never shorter than asked.
    if (!tier.needsExtension(key, ttlMs)) return;
    if (ttlMs !== Infinity) ttlMs += Math.ceil(ttlMs / EXTENSION_OVERSHOOT);
    const pending = this.#extending.get(key);
    if (pending !== undefined) {
      pending.next = ttlMs;
      return;
    }
    const state: { next: number | undefined } = { next: undefined };
    this.#extending.set(key, state);
    const watch = this.#watch as KeyWatch;
    const failed = (err: unknown): void => {
      if (!(err instanceof CacheUnavailableError)) this.report({ kind: 'write', store: this.store.name, err }, 'cachette: extending an entry for an l1 hit failed');
    };
    const send = (ms: number): void => {
      const since = this.clock.now();
      const sent = watch.expire(key, ms).then(
        (alive) => (alive ? tier.extended(key, since, ms) : tier.changed(key)),
        (err: unknown) => {
          // Not extended here: drop the held copy (the next call reads through the store), and when
          // the tracking connection was not there to send it, extend through the store instead.
          tier.changed(key);
          const store = this.store;
          if (!(err instanceof CacheUnavailableError) || store.getAndExpire === undefined) return failed(err);
          return Promise.resolve(store.getAndExpire(key, ms)).then(noop, failed);
        },
      );
      this.track(
        sent.then(() => {
          const next = state.next;
          state.next = undefined;
          if (next !== undefined) send(next);
          else this.#extending.delete(key);
        }),
      );
    };
    send(ttlMs);
  }

  /**
   * Invalidate every entry carrying any of `tags` (the `tags` option of {@link cached}), in every
   * process: O(1) per tag, whatever the number of entries (one record per tag is changed; nothing
   * is listed or scanned). Once it resolves, no process serves those entries: a tagged hit reads
   * its tag records in the same round trip as the entry. Runs in flight in this process for them
   * are abandoned (later calls start new ones), and an origin that started before the invalidation
   * never writes a value that is served as fresh.
   *
   * With `{ stale: true }` the entries become stale instead of gone: functions with
   * `staleWhileRevalidate` keep serving them while one background refresh replaces each, and
   * `staleIfError` still answers with them when the origin fails; other functions miss.
   *
   * @example
   * ```ts
   * const getProduct = cached(loadProduct, { cache, ttl: '1h', tags: (id: number) => [`product:${id}`, 'catalog'] });
   * await cache.invalidateTags(['product:42']);              // product 42 is gone everywhere
   * await cache.invalidateTags(['catalog'], { stale: true }); // every product is stale: served while it refreshes
   * ```
   * @throws {CacheConfigError} (rejects) when `tags` is not an array of 1–64 non-empty strings of at
   *   most 256 characters, or `options` is invalid.
   * @throws {CacheStoreError} (rejects) when the store cannot be reached: the entries may still be
   *   served, so unlike calls this does not fail open.
   */
  async invalidateTags(tags: readonly string[], options: InvalidateOptions = {}): Promise<void> {
    const problem = tagsProblem(tags);
    if (problem !== undefined) throw configError('tags', problem.replace(/^tags /, ''));
    const stale = staleOption(options);
    if (tags.length === 0) return;
    const keys = tags.map((tag) => tagRecordKey(this.namespace, tag));
    const covered = new Set(keys);
    await this.#invalidating(
      { scope: 'tags', tags: tags.length, namespace: this.namespace, stale },
      (scope) => scope.tagKeys()?.some((key) => covered.has(key)) === true,
      async () => {
        // The held copies of the records are dropped now, and again once changed (a read in flight).
        for (const key of keys) this.tier?.changed(key);
        await invalidateRecords(this.store, keys, { stale, ttlMs: TAG_RECORD_TTL_MS });
        for (const key of keys) this.tier?.changed(key);
      },
      'cachette: invalidateTags failed',
    );
  }

  /**
   * Invalidate every entry under this cache's namespace, of every function, in every process. O(1):
   * one generation record changes. This process stops serving them when it resolves; other
   * processes within `clearPollInterval` (1 s by default). `{ stale: true }` makes them stale
   * instead of gone, as for {@link Cache.invalidateTags}. Functions with their own `namespace`
   * option are under that namespace, not this one.
   *
   * @example
   * ```ts
   * const cache = createCache({ store: { type: 'redis', url }, namespace: 'app' });
   * await cache.clear(); // every app:* entry of cachette is gone; keys that are not cachette's are untouched
   * ```
   * @throws {CacheConfigError} (rejects) when the cache has no `namespace`: clearing would have to
   *   cover keys that are not cachette's; clear each function with `f.clear()` instead.
   * @throws {CacheStoreError} (rejects) when the store cannot be reached.
   */
  async clear(options: InvalidateOptions = {}): Promise<void> {
    if (this.namespace === undefined) {
      throw configError('namespace', 'cache.clear() needs a namespace: without one it would cover keys that are not cachette\'s (clear each function with f.clear())');
    }
    await this.clearGeneration(generationKey(this.namespace), staleOption(options));
  }

  /** @internal change one clear generation (`cache.clear()`, or `f.clear()` of the function `name`) and abandon its runs. */
  clearGeneration(key: string, stale: boolean, name?: string): Promise<void> {
    const event: Omit<InvalidateEvent, 'ok'> = name === undefined ? { scope: 'namespace', namespace: this.namespace, stale } : { scope: 'function', name, namespace: this.namespace, stale };
    return this.#invalidating(event, (scope) => scope.generations.includes(key), () => this.generations.clear(key, stale), 'cachette: clear failed');
  }

  /**
   * Run an invalidation (`change`), abandoning the runs in flight it `covers` before and after it:
   * runs started while the records changed read the old ones. A failure is reported, then rethrown.
   */
  async #invalidating(event: Omit<InvalidateEvent, 'ok'>, covers: (scope: RunScopeLike) => boolean, change: () => Promise<unknown>, failure: string): Promise<void> {
    const abandon = (): void => this.flights.abandonWhere((scope) => scope !== undefined && covers(scope as RunScopeLike));
    abandon();
    try {
      await change();
    } catch (err) {
      this.report({ kind: 'delete', store: this.store.name, err }, failure);
      publishInvalidate(() => ({ ...event, ok: false }));
      throw err;
    }
    abandon();
    publishInvalidate(() => ({ ...event, ok: true }));
  }

  /**
   * The counters of every function of this cache, summed (same keys as `f.stats`), for a metrics
   * endpoint. A snapshot: a new object on each read, which later calls do not change. Functions
   * that were garbage-collected still count, so every counter only grows.
   * @example
   * ```ts
   * app.get('/metrics', (_req, res) => res.json(cache.stats)); // { hits: 1200, l1Hits: 800, misses: 40, … }
   * ```
   */
  get stats(): CacheStats {
    const total = { ...this.#retired };
    for (const stats of this.#live) addStats(total, stats);
    return total;
  }

  /** @internal count `stats` (of the cached function `fn`) in {@link Cache.stats}. */
  adopt(fn: object, stats: CacheStats): void {
    this.#live.add(stats);
    this.#collected.register(fn, stats);
  }

  /** The counters of this cache's functions that are still alive (not their functions: those may be collected). */
  readonly #live = new Set<CacheStats>();
  /** The counters of functions that were collected, summed. */
  readonly #retired: CacheStats = createStats();
  readonly #collected = new FinalizationRegistry<CacheStats>((stats) => {
    this.#live.delete(stats);
    addStats(this.#retired, stats);
  });

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
    const result = { ...health, connection, ok: connection === 'ready' && health.state === 'closed' };
    return this.tier === undefined ? result : { ...result, l1: this.tier.health() };
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
      this.generations.stop();
      while (this.#pending > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
      await this.#watch?.close();
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

/** Options of {@link Cache.invalidateTags}, {@link Cache.clear} and `f.clear()`. */
export interface InvalidateOptions {
  /**
   * Make the entries stale instead of gone: served under the function's `staleWhileRevalidate`
   * (while one background refresh replaces each) and `staleIfError`, misses for other functions.
   * @defaultValue false
   */
  stale?: boolean;
}

/** The validated `stale` of {@link InvalidateOptions}. @internal */
export function staleOption(options: unknown): boolean {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw configError('options', `expected { stale?: boolean }, received ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) if (key !== 'stale') throw configError(`options.${key}`, 'unknown option (expected only stale)');
  const stale: unknown = (options as { stale?: unknown }).stale;
  if (stale !== undefined && typeof stale !== 'boolean') throw configError('options.stale', `expected a boolean, received ${stale === null ? 'null' : typeof stale}`);
  return stale === true;
}

/** The serializer a `serializer` option names (a built-in by name, or the object given). */
function pickSerializer(option: SerializerName | Serializer | undefined): Serializer {
  if (option === undefined || option === 'json') return jsonSerializer;
  if (option === 'rich') return richSerializer;
  if (option === 'msgpack') return msgpackSerializer;
  return option;
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
  if (config.type === 'memory') return { store: new MemoryStore({ maxEntries: config.maxEntries ?? DEFAULT_MAX_ENTRIES, maxBytes: config.maxBytes, clock: cache.clock }), owned: true };
  const { type: _type, opTimeout, ...connection } = config;
  const store = new RedisStore({
    ...(connection as RedisConnection | { cluster: RedisClusterOptions }),
    opTimeoutMs: opTimeout === undefined ? DEFAULT_OP_TIMEOUT_MS : toMs(opTimeout),
    // Compressed payloads are bytes: read as text they would lose them.
    binary: cache.codec.binary === true || cache.codec !== cache.serializer,
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
    onOpen: (health, err) => {
      publishBreaker(() => ({ store: health.store, state: 'open', namespace: cache.namespace, consecutiveFailures: health.consecutiveFailures }));
      cache.report(
        { kind: 'breaker', store: health.store, err },
        `cachette: ${health.store} circuit breaker opened after ${health.consecutiveFailures} consecutive failures; calls skip ${health.store} for ${cooldownMs} ms`,
      );
    },
    onHalfOpen: (health) => publishBreaker(() => ({ store: health.store, state: 'half-open', namespace: cache.namespace, consecutiveFailures: health.consecutiveFailures })),
    onClose: (health) => publishBreaker(() => ({ store: health.store, state: 'closed', namespace: cache.namespace, consecutiveFailures: health.consecutiveFailures })),
  };
}

function addStats(total: CacheStats, stats: Readonly<CacheStats>): void {
  for (const name of Object.keys(total) as Array<keyof CacheStats>) total[name] += stats[name];
}

function noop(): void {}

/** A tier hit's extension reaches `ttl + ttl / EXTENSION_OVERSHOOT` (see `extendInTier`). */
const EXTENSION_OVERSHOOT = 16;
