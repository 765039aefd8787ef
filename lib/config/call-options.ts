/**
 * Per-call options: the optional last argument of a cached function, their names and their schema.
 * @module
 */
import { z } from 'zod';
import type { Duration } from '../duration.js';
import { bool, isFunction, isObject, nested, timerDuration, ttlDuration, agree, type SameKeys } from './fields.js';

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
   * `0` stores nothing and leaves a live entry's TTL alone; `Infinity` stores (or keeps) the entry
   * without expiry. At most 10^15 ms.
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
   * has gone, the origin's {@link originSignal} fires. An already-aborted signal rejects at once.
   */
  signal?: AbortSignal;
}

/**
 * Origin timeouts: a {@link Duration} is a hard timeout; or `{ soft, hard }`. Each is at most
 * 2^31−1 ms (about 24.8 days); leave it out for no limit.
 * - `soft`: once it passes, a stale value (within `staleIfError`) is returned if there is one; the
 *   origin goes on in the background and its result still updates the cache.
 * - `hard`: once it passes, the call rejects with {@link CacheOriginTimeoutError} (or returns a stale
 *   value within `staleIfError`); the origin's result, if it comes, still updates the cache.
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

const timeoutObjectSchema = z.object({ soft: timerDuration(0).optional(), hard: timerDuration(0).optional() }).strict();
const hardTimeout = timerDuration(0);

/** `timeout`, for a function and for one call: a hard timeout, or `{ soft?, hard? }` (issues name `timeout.soft`, `timeout.hard`). */
export const timeoutSchema = z.unknown().superRefine((value, ctx) => {
  nested(isObject(value) && !Array.isArray(value) ? timeoutObjectSchema : hardTimeout, value, ctx);
}) as unknown as z.ZodType<TimeoutOption>;

/** An `AbortSignal` (or anything shaped like one: another realm's, a polyfill's). */
const signalSchema = z.custom<AbortSignal>(
  (value) =>
    isObject(value) && typeof value.aborted === 'boolean' && isFunction(value.addEventListener) && isFunction(value.removeEventListener),
  { error: 'expected an AbortSignal (with aborted, addEventListener and removeEventListener)' },
);

/** Schema of {@link CallOptions}. */
export const callOptionsSchema = z
  .object({
    bypassCache: bool.optional(),
    forceRefresh: bool.optional(),
    ttl: ttlDuration(true).optional(),
    cacheRead: bool.optional(),
    cacheWrite: bool.optional(),
    waitForWrite: bool.optional(),
    timeout: timeoutSchema.optional(),
    signal: signalSchema.optional(),
  })
  .strict();

// Keep the hand-written type and the schema in step (a compile-time check; nothing runs).
agree<SameKeys<CallOptions, z.input<typeof callOptionsSchema>>>(true);
