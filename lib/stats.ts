/**
 * Per-function counters, read live from `cachedFn.stats`.
 * @module
 */

/** Counters of one cached function since it was created. */
export interface CacheStats {
  /** Calls answered from the cache. */
  hits: number;
  /** Calls that read and found nothing usable (absent, expired, undecodable), plus `cacheRead: false` calls. */
  misses: number;
  /** Calls made with `bypassCache`. */
  bypasses: number;
  /** Calls made with `forceRefresh`, and `refresh()` calls. */
  refreshes: number;
  /** Misses that joined an origin run already in flight instead of starting one. */
  coalesced: number;
  /** Cache-layer failures: store errors and timeouts, undecodable entries, unserializable results, throwing hooks. */
  errors: number;
}

/** A fresh set of zeroed counters. */
export function createStats(): CacheStats {
  return { hits: 0, misses: 0, bypasses: 0, refreshes: 0, coalesced: 0, errors: 0 };
}
