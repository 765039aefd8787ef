/**
 * Options: the zod schemas that validate them, the public option types, and their defaults.
 *
 * zod is the single source of runtime truth. Options that take functions typed by the wrapped
 * function (`keyBuilder`, `ttl(result)`, `skipCache`) are written by hand as {@link CachedOptions};
 * a compile-time check at the bottom keeps the hand-written keys and the schema's keys in step.
 * @module
 */
import { z } from 'zod';
import type { Clock } from './clock.js';
import { describeReceived, toMs, type Duration } from './duration.js';
import { CacheConfigError, type ConfigIssue } from './errors.js';
import type { Logger } from './log.js';
import type { Serializer } from './serializers/serializer.js';
import type { RedisClientLike, RedisSocketOptions } from './stores/redis.js';
import type { Store } from './stores/store.js';
import type { Cache } from './cache.js';

/** Any function: cachette wraps sync and async functions alike (results are awaited). */
export type AnyFunction = (...args: never[]) => unknown;

/** What a wrapped function resolves to. */
export type ResultOf<F extends AnyFunction> = Awaited<ReturnType<F>>;

// ---------------------------------------------------------------------------------------------
// Public option types
// ---------------------------------------------------------------------------------------------

/**
 * Options for one call, given as the optional last argument of a cached function (or first, to
 * {@link CachedFunction.callWith}).
 */
export interface CallOptions {
  /**
   * Go around the cache: no read and no write (unless `cacheWrite: true` is also given). The
   * origin runs; counted in `stats.bypasses`.
   * @defaultValue false
   */
  bypassCache?: boolean;
  /**
   * Skip the read, run the origin and store the fresh value (unless `cacheWrite: false`).
   * Counted in `stats.refreshes`.
   * @defaultValue false
   */
  forceRefresh?: boolean;
  /**
   * Time to live for this call. On a miss it is the stored TTL (over the function's `ttl`); on a
   * hit, with `updateTtlOnHit`, it resets the live entry's TTL in the same round trip as the read.
   * `0` stores nothing; `Infinity` stores (or keeps) the entry without expiry.
   */
  ttl?: Duration;
  /** `false` skips the read; the result is still written. Counted as a miss. @defaultValue true */
  cacheRead?: boolean;
  /** `false` never writes, whatever else is set. @defaultValue true (false under `bypassCache`) */
  cacheWrite?: boolean;
  /**
   * `false` returns as soon as the origin answers; the write goes on in the background, tracked
   * (awaited by `cache.close()`), its failures logged and counted, never an unhandled rejection.
   * @defaultValue the function's `waitForWrite` (true)
   */
  waitForWrite?: boolean;
  /** Origin timeouts for this call, over the function's `timeout`. See {@link CachedOptions.timeout}. */
  timeout?: TimeoutOption;
  /**
   * Stop waiting when this signal aborts: the call rejects with the signal's reason (an
   * `AbortError`). Other callers sharing the same origin run are not disturbed; when every caller
   * has gone, the origin's {@link originSignal} fires.
   */
  signal?: AbortSignal;
}

/**
 * Origin timeouts: a {@link Duration} is a hard timeout; or `{ soft, hard }`.
 * - `soft`: once it passes, a stale value (within `staleIfError`) is returned if there is one; the
 *   origin goes on in the background and its result still updates the cache.
 * - `hard`: once it passes, the call rejects with {@link CacheTimeoutError} (or returns a stale value
 *   within `staleIfError`); the origin's result, if it comes, still updates the cache.
 */
export type TimeoutOption =
  | Duration
  | {
      /** After this, serve a stale value if there is one; the origin goes on in the background. */
      soft?: Duration;
      /** After this, reject with {@link CacheOriginTimeoutError} (or serve a stale value within `staleIfError`). */
      hard?: Duration;
    };

/** The names that make a trailing plain object count as {@link CallOptions}. */
export const CALL_OPTION_NAMES: ReadonlySet<string> = new Set([
  'bypassCache',
  'forceRefresh',
  'ttl',
  'cacheRead',
  'cacheWrite',
  'waitForWrite',
  'timeout',
  'signal',
]);

/**
 * A time to live: a {@link Duration}, or a function of the result and the arguments that returns
 * one (e.g. longer for premium users). `undefined` from the function means "no expiry".
 */
export type TtlOption<F extends AnyFunction> =
  | Duration
  | ((result: ResultOf<F>, args: Parameters<F>) => Duration | undefined);

/** Options of {@link cached}. Validated when `cached()` is called. */
export interface CachedOptions<F extends AnyFunction> {
  /** The cache to use (from {@link createCache}). @defaultValue a process-wide memory cache */
  cache?: Cache;
  /**
   * The function's identity in keys. Two functions with the same `name` in one namespace share
   * entries, so give each its own.
   * @defaultValue `fn.name`; required when that is empty (arrow functions assigned nowhere)
   */
  name?: string;
  /**
   * How long entries live: milliseconds (`1500`), a duration string (`'30s'`, `'5m'`), or a
   * function `(result, args) => ttl`. `0` means "do not store"; `Infinity` and no `ttl` at all mean
   * "no expiry": the entry lives until it is evicted (LRU in the memory store, `maxmemory-policy`
   * in Redis) or invalidated.
   * @defaultValue no expiry
   */
  ttl?: TtlOption<F>;
  /** A fixed key: every call shares one entry, whatever the arguments. Excludes `keyBuilder`. */
  key?: string;
  /**
   * Builds the argument part of the key from the call's arguments (the head
   * `namespace:keyPrefix:name[:vN]` is still added), e.g. `(id, version) => \`product:${id}:ver${version}\``.
   */
  keyBuilder?: (...args: Parameters<F>) => string;
  /** Overrides the cache's namespace (the first key segment) for this function. */
  namespace?: string;
  /** A segment added after the namespace, before the name. */
  keyPrefix?: string;
  /** Part of every key (`…:v3:…`): bump it to orphan entries written by older code. */
  version?: string | number;
  /** Replaces `name` in keys: functions with the same `sharedContext` share entries. */
  sharedContext?: string;
  /** Return `true` to keep a result out of the cache (it is still returned). */
  skipCache?: (result: ResultOf<F>, args: Parameters<F>) => boolean;
  /** A per-call `ttl` on a hit resets the live entry's TTL (GETEX, no extra round trip). @defaultValue true */
  updateTtlOnHit?: boolean;
  /** Wait for the cache write before returning; per-call `waitForWrite` overrides it. @defaultValue true */
  waitForWrite?: boolean;
  /**
   * After an entry's fresh `ttl`, keep serving it for this long while one background refresh
   * (single-flight) replaces it. Counted in `stats.stale`. Needs a `ttl`.
   * @defaultValue 0 (off)
   */
  staleWhileRevalidate?: Duration;
  /**
   * When the origin throws or times out, serve a stale value up to this long past its `ttl` instead
   * of the error (reported to the logger, counted in `stats.staleIfError`). Needs a `ttl`.
   * @defaultValue 0 (off)
   */
  staleIfError?: Duration;
  /**
   * Probabilistic early refresh (XFetch): on a fresh hit, refresh in the background with a chance that
   * rises as expiry nears, scaled by how long the origin took, so hot keys are recomputed before they
   * expire and never stampede. `true` uses `beta: 1`; a larger `beta` refreshes earlier.
   * @defaultValue false
   */
  refreshAhead?:
    | boolean
    | {
        /** How eagerly to refresh: above 1 earlier, below 1 later. @defaultValue 1 */
        beta?: number;
      };
  /** Origin timeouts for every call (a per-call `timeout` overrides them). @defaultValue none */
  timeout?: TimeoutOption;
  /**
   * A cross-process lock on misses, so one origin call serves every process sharing the store:
   * `true` for the defaults, or {@link LockOptions}. The holder runs the origin and writes the value;
   * other processes wait (bounded) for it. Needs a store with `setIfAbsent` and `deleteIfEquals`
   * (Redis and memory have both); on another store only the in-process single-flight applies.
   * See the stampede protection guide (`docs/guides/stampede-protection.md`).
   * @defaultValue false
   */
  lock?: boolean | LockOptions;
}

/** Settings of the cross-process miss lock (`lock` option of {@link cached}). */
export interface LockOptions {
  /**
   * How long the lock lives if its holder never releases it (the process died). Longer than the
   * origin usually takes: a lock that expires while its origin still runs lets another process run
   * it too (never a wrong value, but a second origin call). At most 2^31−1 ms.
   * @defaultValue 10000 (10 s)
   */
  ttl?: Duration;
  /**
   * Longest time a process waits for the holder's value before running the origin itself (counted
   * in `stats.lockTimeouts`). `0`: never wait. A holder that dies is taken over only once its lock
   * expires, so with `wait` shorter than `ttl` waiters give up first and run the origin. At most 2^31−1 ms.
   * @defaultValue 5000 (5 s)
   */
  wait?: Duration;
  /** First delay between two looks at the key while waiting; it doubles (with jitter) up to `maxPollInterval`. @defaultValue 10 (ms) */
  pollInterval?: Duration;
  /** Longest delay between two looks at the key while waiting. At least `pollInterval`. @defaultValue 200 (ms) */
  maxPollInterval?: Duration;
}

/** Settings shared by every Redis store form. */
export interface RedisCommonConfig {
  /** Selects the Redis store. */
  type: 'redis';
  /**
   * Longest time one store operation may take before it counts as failed (the call then goes to
   * the origin). Positive and at most 2^31−1 ms (about 24.8 days).
   * @defaultValue 500 (ms)
   */
  opTimeout?: Duration;
}

/** Redis reached by URL: `redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS. */
export interface RedisUrlConfig extends RedisCommonConfig {
  /** `redis[s]://[[user]:password@]host[:port][/db]`. */
  url: string;
}

/** Redis reached by host and port (`localhost:6379` when both are left out). */
export interface RedisSocketConfig extends RedisCommonConfig, RedisSocketOptions {}

/** Your own node-redis client. cachette connects it if needed and never closes it. */
export interface RedisClientConfig extends RedisCommonConfig {
  /** Your node-redis client (`createClient()`); connected on first use if needed, never closed. */
  client: RedisClientLike;
}

/** An in-process store, bounded by entry count with least-recently-used eviction. */
export interface MemoryStoreConfig {
  /** Selects the memory store. */
  type: 'memory';
  /** Most entries kept; the least recently used go first. @defaultValue 10000 */
  maxEntries?: number;
}

/** Where a cache keeps its entries: a store description, or any {@link Store} object. */
export type StoreConfig = RedisUrlConfig | RedisSocketConfig | RedisClientConfig | MemoryStoreConfig | Store;

/** Options of {@link createCache}. */
export interface CacheConfig {
  /** @defaultValue `{ type: 'memory' }` */
  store?: StoreConfig;
  /** First segment of every key, e.g. `'app'` → `app:getUser:42`. @defaultValue none */
  namespace?: string;
  /** @defaultValue {@link jsonSerializer} */
  serializer?: Serializer;
  /**
   * Receives cache-layer failures (`warn`) with a structured object first, pino style. Never given
   * cached values or call arguments.
   * @defaultValue a quiet logger: the first failure of each kind goes to `console.warn`, later ones are only counted
   */
  logger?: Logger;
  /** Time source for entry timestamps and memory-store expiry. For tests. @defaultValue `Date.now` */
  clock?: Clock;
  /**
   * The Redis store's circuit breaker: after `threshold` consecutive failures (lost connection,
   * timeout) calls skip Redis for `cooldown` and go straight to the origin (counted in
   * `stats.skipped`), then one probe operation decides whether to close it. `true` uses the defaults;
   * `false` never opens it. Memory stores and your own `Store` objects have no breaker: ignored there.
   * State: {@link Cache.health}.
   * @defaultValue `{ threshold: 5, cooldown: 2000 }`
   */
  breaker?: BreakerConfig | boolean;
}

/** Settings of the Redis store's circuit breaker ({@link CacheConfig.breaker}). */
export interface BreakerConfig {
  /**
   * Consecutive failures (connection errors, timeouts; not refusals such as `OOM` or `READONLY`) that
   * open the breaker. A positive integer.
   * @defaultValue 5
   */
  threshold?: number;
  /**
   * How long an open breaker skips Redis before one probe operation is let through. Positive, at most
   * 2^31−1 ms.
   * @defaultValue 2000 (ms)
   */
  cooldown?: Duration;
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** A duration; the message shows what was given when it is a number or a short string. */
const duration = z.unknown().superRefine((value, ctx) => {
  if (toMs(value) !== undefined) return;
  const shown = typeof value === 'string' && value.length <= 16 ? JSON.stringify(value) : describeReceived(value);
  ctx.addIssue({ code: 'custom', message: `must be a non-negative duration, got ${shown} (milliseconds, or a string such as '500ms', '30s', '5m', '1h', '1d')` });
});

/** A positive duration a timer can hold (Node timers take at most 2^31−1 ms). */
const opTimeout = z.unknown().superRefine((value, ctx) => {
  const ms = toMs(value);
  if (ms !== undefined && ms > 0 && ms <= MAX_TIMER_MS) return;
  const shown = typeof value === 'string' && value.length <= 16 ? JSON.stringify(value) : describeReceived(value);
  ctx.addIssue({ code: 'custom', message: `must be a positive duration of at most ${MAX_TIMER_MS} ms, got ${shown}` });
});
const MAX_TIMER_MS = 2 ** 31 - 1;

const fn = (what: string) => z.custom<(...args: never[]) => unknown>(isFunction, { error: (issue) => `expected ${what}, received ${describeReceived(issue.input)}` });
// Only the type of a wrong value is shown: a misplaced password must not reach an error message.
const text = (what = 'a string') => z.string({ error: (issue) => `expected ${what}, received ${describeType(issue.input)}` });
const nonEmpty = (what: string) => text(what).min(1, { error: `must not be empty` });
const bool = z.boolean({ error: (issue) => `expected a boolean, received ${describeType(issue.input)}` });

function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

const storeObject = z.custom<Store>(
  (value) => isObject(value) && isFunction(value.get) && isFunction(value.set) && isFunction(value.delete),
);

const redisClient = z.custom<RedisClientLike>(
  (value) => isObject(value) && isFunction(value.get) && isFunction(value.set) && isFunction(value.connect),
  { error: 'expected a node-redis client (createClient() from the redis package)' },
);

const redisStoreSchema = z
  .object({
    type: z.literal('redis'),
    url: text('a string (redis://…)')
      .regex(/^rediss?:\/\//, { error: 'must start with redis:// or rediss://' })
      .optional(),
    client: redisClient.optional(),
    host: nonEmpty('a host name').optional(),
    port: z
      .unknown()
      .refine((v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535, {
        error: (i) => `must be an integer from 1 to 65535, got ${describeReceived(i.input)}`,
      })
      .transform((v) => v as number)
      .optional(),
    username: text().optional(),
    password: text().optional(),
    db: z
      .unknown()
      .refine((v) => Number.isInteger(v) && (v as number) >= 0, {
        error: (i) => `must be a non-negative integer, got ${describeReceived(i.input)}`,
      })
      .transform((v) => v as number)
      .optional(),
    tls: z.union([z.boolean(), z.record(z.string(), z.unknown())], { error: 'expected a boolean or tls.connect options' }).optional(),
    opTimeout: opTimeout.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const socketFields = (['host', 'port', 'username', 'password', 'db', 'tls'] as const).filter((f) => value[f] !== undefined);
    if (value.url !== undefined && value.client !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['client'], message: 'give either url or client, not both' });
    }
    const other = value.url !== undefined ? 'url' : value.client !== undefined ? 'client' : undefined;
    if (other && socketFields.length > 0) {
      ctx.addIssue({ code: 'custom', path: [socketFields[0] as string], message: `cannot be combined with ${other}` });
    }
  });

const memoryStoreSchema = z
  .object({
    type: z.literal('memory'),
    maxEntries: z
      .number({ error: (i) => `expected a positive integer, received ${describeReceived(i.input)}` })
      .int({ error: 'must be a positive integer' })
      .positive({ error: 'must be a positive integer' })
      .optional(),
  })
  .strict();

const storeSchema = z.unknown().superRefine((value, ctx) => {
  if (!isObject(value)) {
    ctx.addIssue({ code: 'custom', message: `expected { type: 'redis' | 'memory', … } or a Store object, received ${describeReceived(value)}` });
    return;
  }
  const schema = value.type === 'redis' ? redisStoreSchema : value.type === 'memory' ? memoryStoreSchema : undefined;
  if (schema) {
    const result = schema.safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
    return;
  }
  if (storeObject.safeParse(value).success) return; // your own Store object (any `type` it may carry is its business)
  ctx.addIssue({ code: 'custom', path: ['type'], message: `expected 'redis' or 'memory' (or a Store object with get/set/delete), received ${describeReceived(value.type)}` });
});

const serializerSchema = z.custom<Serializer>(
  (value) =>
    isObject(value) &&
    isFunction(value.serialize) &&
    isFunction(value.deserialize) &&
    typeof value.name === 'string' &&
    /^[a-z][a-z0-9-]{0,31}$/.test(value.name),
  { error: 'expected { name, serialize, deserialize } with a name matching [a-z][a-z0-9-]*' },
);

const loggerSchema = z.custom<Logger>((value) => isObject(value) && isFunction(value.warn) && isFunction(value.error), {
  error: 'expected a logger with warn() and error() methods (pino, console, …)',
});

const breakerObjectSchema = z
  .object({
    threshold: z
      .unknown()
      .refine((v) => Number.isSafeInteger(v) && (v as number) >= 1, {
        error: (i) => `must be a positive integer, got ${describeReceived(i.input)}`,
      })
      .transform((v) => v as number)
      .optional(),
    cooldown: opTimeout.optional(),
  })
  .strict();

/** `{ threshold?, cooldown? }` or a boolean; issues of the object keep their field paths. */
const breakerSchema = z.unknown().superRefine((value, ctx) => {
  if (typeof value === 'boolean') return;
  if (!isObject(value) || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `expected { threshold?, cooldown? } or a boolean, received ${describeReceived(value)}` });
    return;
  }
  const result = breakerObjectSchema.safeParse(value);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
});

/** Schema of {@link CacheConfig}. */
export const cacheConfigSchema = z
  .object({
    store: storeSchema.optional(),
    namespace: nonEmpty('a string').optional(),
    serializer: serializerSchema.optional(),
    logger: loggerSchema.optional(),
    clock: z.custom<Clock>((value) => isObject(value) && isFunction(value.now), { error: 'expected { now(): number }' }).optional(),
    breaker: breakerSchema.optional(),
  })
  .strict();

const timeoutSchema = z.union(
  [
    z.object({ soft: duration.optional(), hard: duration.optional() }).strict(),
    duration,
  ],
  { error: 'expected a duration (hard timeout) or { soft?, hard? }' },
);

/** A duration a timer can hold: `min` ≤ ms ≤ 2^31−1. */
const timerMs = (min: 0 | 1) =>
  z.unknown().superRefine((value, ctx) => {
    const ms = toMs(value);
    if (ms !== undefined && ms >= min && ms <= MAX_TIMER_MS) return;
    const shown = typeof value === 'string' && value.length <= 16 ? JSON.stringify(value) : describeReceived(value);
    ctx.addIssue({ code: 'custom', message: `must be a ${min === 1 ? 'positive' : 'non-negative'} duration of at most ${MAX_TIMER_MS} ms, got ${shown}` });
  });

const lockObjectSchema = z
  .object({
    ttl: timerMs(1).optional(),
    wait: timerMs(0).optional(),
    pollInterval: timerMs(1).optional(),
    maxPollInterval: timerMs(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const first = toMs(value.pollInterval) ?? 10;
    const most = value.maxPollInterval === undefined ? undefined : toMs(value.maxPollInterval);
    if (most !== undefined && most < first) ctx.addIssue({ code: 'custom', path: ['maxPollInterval'], message: `must be at least pollInterval (${first} ms)` });
  });

/** `lock`: a boolean, or the lock's settings. */
const lockSchema = z.unknown().superRefine((value, ctx) => {
  if (typeof value === 'boolean') return;
  if (!isObject(value) || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `expected true, false or { ttl, wait, pollInterval, maxPollInterval }, received ${describeReceived(value)}` });
    return;
  }
  const result = lockObjectSchema.safeParse(value);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
}) as unknown as z.ZodType<boolean | LockOptions>;

const signalSchema = z.custom<AbortSignal>(
  (value) => isObject(value) && typeof value.aborted === 'boolean' && isFunction(value.addEventListener),
  { error: 'expected an AbortSignal' },
);

/** Schema of {@link CachedOptions} (function-typed fields are checked for being functions). */
export const cachedOptionsSchema = z
  .object({
    cache: z.custom<Cache>((value) => isObject(value) && (value as { [cacheBrand]?: true })[cacheBrand] === true, {
      error: 'expected a cache from createCache()',
    }).optional(),
    name: nonEmpty('a string').optional(),
    ttl: z.union([fn('a function'), duration]).optional(),
    key: nonEmpty('a string').optional(),
    keyBuilder: fn('a function (...args) => string').optional(),
    namespace: nonEmpty('a string').optional(),
    keyPrefix: nonEmpty('a string').optional(),
    version: z.union([text(), z.number().finite()], { error: (i) => `expected a string or a number, received ${describeReceived(i.input)}` }).optional(),
    sharedContext: nonEmpty('a string').optional(),
    skipCache: fn('a function (result, args) => boolean').optional(),
    updateTtlOnHit: bool.optional(),
    waitForWrite: bool.optional(),
    staleWhileRevalidate: duration.optional(),
    staleIfError: duration.optional(),
    refreshAhead: z
      .union([bool, z.object({ beta: z.number().positive({ error: 'must be a positive number' }).finite().optional() }).strict()], {
        error: 'expected a boolean or { beta }',
      })
      .optional(),
    timeout: timeoutSchema.optional(),
    lock: lockSchema.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const field of ['staleWhileRevalidate', 'staleIfError'] as const) {
      if (value[field] !== undefined && toMs(value[field]) === Infinity) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'must be finite' });
      }
      if (value[field] !== undefined && toMs(value[field]) !== 0 && value.ttl === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'needs a ttl (entries without expiry never go stale)' });
      }
    }
    if (value.key !== undefined && value.keyBuilder !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keyBuilder'], message: 'cannot be combined with key (a fixed key ignores the arguments)' });
    }
  });

/** Schema of {@link CallOptions}. */
export const callOptionsSchema = z
  .object({
    bypassCache: bool.optional(),
    forceRefresh: bool.optional(),
    ttl: duration.optional(),
    cacheRead: bool.optional(),
    cacheWrite: bool.optional(),
    waitForWrite: bool.optional(),
    timeout: timeoutSchema.optional(),
    signal: signalSchema.optional(),
  })
  .strict();

/** Marks objects made by `createCache`, so `cache:` can be validated without importing the class. */
export const cacheBrand: unique symbol = Symbol.for('cachette.cache');

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Parse `input` with `schema`, or throw a {@link CacheConfigError} naming the first bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: joinPath(prefix, [...issue.path, key]), message: 'is not a known option' });
      }
    } else {
      issues.push({ path: joinPath(prefix, issue.path), message: issue.message.replace(/^Invalid input: /, '') });
    }
  }
  const first = issues[0] ?? { path: prefix, message: 'is invalid' };
  const where = first.path === '' ? 'options' : first.path;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map((i) => i.path || 'options').join(', ')})` : '';
  throw new CacheConfigError(`cachette: ${where}: ${first.message}${more}`, first.path, issues);
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  const parts = path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p)));
  return [prefix, ...parts].filter((p) => p !== '').join('.');
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** A call's options resolved into what the engine needs; built only when options are passed. */
export interface ResolvedCall {
  readonly read: boolean;
  readonly write: boolean;
  readonly bypass: boolean;
  readonly refresh: boolean;
  /** Per-call TTL in ms (may be 0 or Infinity), or undefined. */
  readonly ttlMs: number | undefined;
  readonly waitForWrite: boolean | undefined;
  /** Per-call origin timeouts in ms, when given. */
  readonly softMs?: number | undefined;
  readonly hardMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** `{ soft, hard }` in ms from a {@link TimeoutOption}. */
export function resolveTimeout(option: TimeoutOption | undefined): { softMs: number | undefined; hardMs: number | undefined } {
  if (option === undefined) return { softMs: undefined, hardMs: undefined };
  if (typeof option === 'object') return { softMs: msOrUndefined(option.soft), hardMs: msOrUndefined(option.hard) };
  return { softMs: undefined, hardMs: toMs(option) };
}

function msOrUndefined(value: Duration | undefined): number | undefined {
  return value === undefined ? undefined : toMs(value);
}

/** Validate per-call options and resolve them. @throws {CacheConfigError} */
export function resolveCallOptions(options: CallOptions): ResolvedCall {
  // Per-call options sit on the hot path (a sliding TTL passes { ttl } on every hit): the common
  // shapes are checked by hand; anything else goes through zod for the same messages as before.
  const parsed = isPlainCallOptions(options) ? options : parseOrThrow(callOptionsSchema, options, 'callOptions');
  const bypass = parsed.bypassCache === true;
  const refresh = !bypass && parsed.forceRefresh === true;
  return {
    bypass,
    refresh,
    read: !bypass && !refresh && parsed.cacheRead !== false,
    write: bypass ? parsed.cacheWrite === true : parsed.cacheWrite !== false,
    ttlMs: parsed.ttl === undefined ? undefined : toMs(parsed.ttl),
    waitForWrite: parsed.waitForWrite,
    ...(parsed.timeout === undefined ? {} : resolveTimeout(parsed.timeout as TimeoutOption)),
    signal: parsed.signal,
  };
}

/** True for call options made only of booleans and a numeric `ttl` ≥ 0: valid without asking zod. */
function isPlainCallOptions(options: CallOptions): boolean {
  for (const key in options) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'ttl') {
      if (typeof value !== 'number' || !(value >= 0)) return false;
    } else if (!(CALL_OPTION_NAMES.has(key) && typeof value === 'boolean')) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Compile-time agreement between the hand-written types and the schemas
// ---------------------------------------------------------------------------------------------

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const agree = <T extends true>(value: T): T => value;
agree<SameKeys<CachedOptions<AnyFunction>, z.input<typeof cachedOptionsSchema>>>(true);
agree<SameKeys<CallOptions, z.input<typeof callOptionsSchema>>>(true);
agree<SameKeys<CacheConfig, z.input<typeof cacheConfigSchema>>>(true);
agree<SameKeys<LockOptions, z.input<typeof lockObjectSchema>>>(true);
