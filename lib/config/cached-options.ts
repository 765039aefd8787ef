/**
 * Options of `cached(fn, options)`: the hand-written types (their callbacks are typed by the wrapped
 * function, which zod cannot express) and the schema that checks them at runtime. A compile-time
 * check at the bottom keeps the two in step.
 * @module
 */
import { z } from 'zod';
import { cacheBrand, type Cache } from '../cache.js';
import type { Duration } from '../duration.js';
import { booleanOr, bool, fn, isObject, nonEmpty, text, timerDuration, ttlDuration, agree, type SameKeys } from './fields.js';
import { describeReceived, toMs } from '../duration.js';
import { DEFAULT_LOCK } from '../defaults.js';
import { tagsProblem } from '../invalidation.js';
import { timeoutSchema, type TimeoutOption } from './call-options.js';
import type { FunctionOptionFields } from './resolve.js';
import type { Migrate, SchemaInput, StandardSchema } from '../schema.js';

/** Any function: cachette wraps sync and async functions alike (results are awaited). */
export type AnyFunction = (...args: never[]) => unknown;

/** What a wrapped function resolves to. */
export type ResultOf<F extends AnyFunction> = Awaited<ReturnType<F>>;

/**
 * A time to live: a {@link Duration}, or a function of the result and the arguments that returns
 * one (e.g. longer for premium users). `undefined` from the function means "no expiry".
 */
export type TtlOption<F extends AnyFunction> =
  | Duration
  | ((result: ResultOf<F>, args: Parameters<F>) => Duration | undefined);

/** Options of {@link cached}. Validated when `cached()` is called. `S` is the type of the `schema` option. */
export interface CachedOptions<F extends AnyFunction, S extends StandardSchema | undefined = StandardSchema | undefined> {
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
   * in Redis) or invalidated. A finite ttl is at most 10^15 ms.
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
  /**
   * Answers all the misses of one {@link CachedFunction.many | many()} call in one call: it receives
   * the argument lists of the misses (those no run in flight answers already), in order, and returns
   * (or resolves to) one result per argument list, in the same order. Each result is then cached like
   * the origin's. A result array of another length, or anything but an array, rejects every item it
   * should have answered with a `CacheBatchError` and caches nothing; a throw or rejection reaches
   * them unchanged. Single calls, refreshes and background refreshes still call the function itself.
   * @defaultValue none: `many()` calls the function once per miss, concurrently
   * @example
   * ```ts
   * const getUser = cached(async (id: number) => db.users.find(id), {
   *   name: 'getUser',
   *   batch: async (argsList) => db.users.findMany(argsList.map(([id]) => id)), // same order as argsList
   * });
   * const users = await getUser.many([[1], [2], [3]]);
   * ```
   */
  batch?: (argsList: Array<Parameters<F>>) => Promise<Array<ResultOf<F>>> | Array<ResultOf<F>>;
  /**
   * Tags of the entries, for {@link Cache.invalidateTags}: a fixed list, or a function of the call's
   * arguments. At most 64 tags of 1–256 characters each. A hit on a tagged function reads its tag
   * records with the entry, in the same round trip (2 commands on one Redis). A `tags` function that
   * throws or returns something else leaves that call uncached (counted in `stats.errors`, logged once).
   * @defaultValue none: the function is untagged and a hit is one command
   * @example
   * ```ts
   * const getProduct = cached(loadProduct, { cache, ttl: '1h', tags: (id: number) => [`product:${id}`, 'catalog'] });
   * await cache.invalidateTags(['catalog']); // every entry of getProduct is gone, in every process
   * ```
   */
  tags?: readonly string[] | ((...args: Parameters<F>) => readonly string[]);
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
  /**
   * A Standard Schema (zod 4, valibot, …; sync or async) every value served from the cache passes
   * first: store hits, in-process tier hits, stale values, a lock holder's value, `many()` items. An
   * entry that fails it is a miss: the origin runs and overwrites it, it is counted in
   * `stats.invalid` and reported once (kind `'schema'`, with the failing paths, never the value).
   * The origin's own result is checked too: one that fails rejects the call with a `CacheSchemaError`
   * and is not cached. The cached function resolves to the schema's output type (transforms apply).
   * See the schemas guide (`docs/guides/schemas.md`).
   * @defaultValue none: values are served as they were stored
   * @example
   * ```ts
   * const User = z.object({ id: z.number(), name: z.string() });
   * const getUser = cached(loadUser, { cache, ttl: '1h', schema: User }); // resolves to z.output<typeof User>
   * ```
   */
  schema?: S;
  /**
   * Turns a cached value that fails the `schema` (an entry written by an older deploy) into the new
   * shape instead of recomputing it: the result is checked by the schema, served, and written back
   * for the entry's remaining TTL. A throw, a rejection or a result that fails the schema too makes
   * the entry a miss. Needs a `schema`.
   * @defaultValue none: an entry that fails the schema is recomputed
   * @example
   * ```ts
   * migrate: (old) => ({ ...(old as object), name: (old as { fullName: string }).fullName }),
   * ```
   */
  migrate?: Migrate<S extends StandardSchema ? SchemaInput<S> : unknown>;
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

const lockObjectSchema = z
  .object({
    ttl: timerDuration(1).optional(),
    wait: timerDuration(0).optional(),
    pollInterval: timerDuration(1).optional(),
    maxPollInterval: timerDuration(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const first = toMs(value.pollInterval) ?? DEFAULT_LOCK.pollMs;
    const most = value.maxPollInterval === undefined ? undefined : toMs(value.maxPollInterval);
    if (most !== undefined && most < first) ctx.addIssue({ code: 'custom', path: ['maxPollInterval'], message: `must be at least pollInterval (${first} ms)` });
  });

const staleWindow = ttlDuration(false);

/** Schema of {@link CachedOptions} (function-typed fields are checked for being functions). */
export const cachedOptionsSchema = z
  .object({
    cache: z
      .custom<Cache>((value) => isObject(value) && (value as { [cacheBrand]?: true })[cacheBrand] === true, {
        error: 'expected a cache from createCache()',
      })
      .optional(),
    name: nonEmpty('a string').optional(),
    ttl: z.union([fn('a function'), ttlDuration(true)]).optional(),
    key: nonEmpty('a string').optional(),
    keyBuilder: fn('a function (...args) => string').optional(),
    namespace: nonEmpty('a string').optional(),
    keyPrefix: nonEmpty('a string').optional(),
    version: z.union([text(), z.number().finite()], { error: (i) => `expected a string or a number, received ${describeReceived(i.input)}` }).optional(),
    sharedContext: nonEmpty('a string').optional(),
    skipCache: fn('a function (result, args) => boolean').optional(),
    updateTtlOnHit: bool.optional(),
    waitForWrite: bool.optional(),
    staleWhileRevalidate: staleWindow.optional(),
    staleIfError: staleWindow.optional(),
    refreshAhead: z
      .union([bool, z.object({ beta: z.number().positive({ error: 'must be a positive number' }).finite().optional() }).strict()], {
        error: 'expected a boolean or { beta }',
      })
      .optional(),
    timeout: timeoutSchema.optional(),
    batch: fn('a function (argsList) => results[]').optional(),
    tags: z
      .union([fn('a function'), z.array(z.unknown())], { error: (i) => `expected an array of tags or a function (...args) => tags, received ${describeReceived(i.input)}` })
      .superRefine((value, ctx) => {
        const problem = typeof value === 'function' ? undefined : tagsProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.replace(/^tags /, '') });
      })
      .optional(),
    lock: booleanOr(lockObjectSchema, 'true, false or { ttl, wait, pollInterval, maxPollInterval }').optional(),
    schema: z
      .custom<StandardSchema>((value) => isObject(value) && isObject(value['~standard']) && typeof value['~standard'].validate === 'function', {
        error: (issue) => `expected a Standard Schema (an object with ~standard.validate, e.g. a zod schema), received ${describeReceived(issue.input)}`,
      })
      .optional(),
    migrate: fn('a function (old, info) => value').optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const field of ['staleWhileRevalidate', 'staleIfError'] as const) {
      if (value[field] !== undefined && toMs(value[field]) !== 0 && value.ttl === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'needs a ttl (entries without expiry never go stale)' });
      }
    }
    if (value.migrate !== undefined && value.schema === undefined) {
      ctx.addIssue({ code: 'custom', path: ['migrate'], message: 'needs a schema (only values that fail it are migrated)' });
    }
    if (value.key !== undefined && value.keyBuilder !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keyBuilder'], message: 'cannot be combined with key (a fixed key ignores the arguments)' });
    }
  });

// Keep the hand-written types and the schemas in step (a compile-time check; nothing runs).
agree<SameKeys<CachedOptions<AnyFunction>, z.input<typeof cachedOptionsSchema>>>(true);
agree<SameKeys<LockOptions, z.input<typeof lockObjectSchema>>>(true);
// What resolution reads must be what the options declare.
agree<CachedOptions<AnyFunction> extends FunctionOptionFields ? true : false>(true);
