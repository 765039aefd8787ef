/**
 * Per-function counters, read live from `cachedFn.stats`.
 * @module
 */

/** Counters of one cached function since it was created. */
export interface CacheStats {
  /** Calls answered from the cache (from either tier). */
  hits: number;
  /** The part of `hits` served by the in-process tier (`l1` option), without reading Redis; `hits - l1Hits` came from the store. */
  l1Hits: number;
  /** Calls that read and found nothing usable (absent, expired, undecodable), plus `cacheRead: false` calls. */
  misses: number;
  /** Calls made with `bypassCache`. */
  bypasses: number;
  /** Calls made with `forceRefresh`, and `refresh()` calls. */
  refreshes: number;
  /** Misses that joined an origin run already in flight instead of starting one. */
  coalesced: number;
  /**
   * Cache-layer failures (store errors and timeouts, undecodable entries, unserializable results,
   * throwing hooks) and failed background refreshes (which no caller saw).
   */
  errors: number;
  /**
   * Store operations not attempted because the store's circuit breaker was open: the call went
   * straight to the origin (a miss skips its read and its write, so it counts 2). Not errors, not logged.
   */
  skipped: number;
  /** Calls answered with a stale value: within `staleWhileRevalidate`, or after a soft `timeout`. */
  stale: number;
  /** Calls answered with a stale value because the origin threw or passed its hard `timeout`. */
  staleIfError: number;
  /** Background refreshes started early by `refreshAhead` (XFetch). */
  earlyRefreshes: number;
  /** Calls whose origin passed the hard `timeout`. */
  timeouts: number;
  /**
   * Misses (one per process and key, however many callers shared it) that found the cross-process
   * `lock` held by another process and waited for its value.
   */
  lockWaits: number;
  /** Waits that ended by taking the lock over: it disappeared without a value (holder died, or its origin failed). */
  lockTakeovers: number;
  /** Waits that passed the lock's `wait` bound: the origin ran here too (fail-open). */
  lockTimeouts: number;
  /**
   * Entries read from the cache that failed the function's `schema` (each also counted as the miss
   * it became, or, when `migrate` turned it into the new shape, as the hit it became).
   */
  invalid: number;
}

/** A fresh set of zeroed counters. */
export function createStats(): CacheStats {
  return { hits: 0, l1Hits: 0, misses: 0, bypasses: 0, refreshes: 0, coalesced: 0, errors: 0, skipped: 0, stale: 0, staleIfError: 0, earlyRefreshes: 0, timeouts: 0, lockWaits: 0, lockTakeovers: 0, lockTimeouts: 0, invalid: 0 };
}
