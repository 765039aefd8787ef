/**
 * Every default and every limit of cachette's options, in one place. A leaf: it imports nothing, so
 * stores, the engine and the option resolvers all read the same numbers.
 * @module
 */

/** Longest time one Redis operation may take before it fails (`store.opTimeout`), in ms. */
export const DEFAULT_OP_TIMEOUT_MS = 500;

/**
 * Consecutive outages that open the Redis store's circuit breaker (`breaker.threshold`). One lost
 * packet or one slow command does not open it, and a success in between starts the count again; a
 * Redis that is down fails five operations in well under a millisecond, and a hung one within one
 * operation timeout when calls are concurrent.
 */
export const DEFAULT_BREAKER_THRESHOLD = 5;

/**
 * How long an open circuit breaker skips Redis before one probe (`breaker.cooldown`), in ms: the
 * longest wait of the Redis store's reconnection backoff, so a probe finds a reconnected client when
 * Redis is back. Hits resume at most about 2 s after Redis does; a hung Redis costs one probe's
 * operation timeout per 2 s instead of one per call.
 */
export const DEFAULT_BREAKER_COOLDOWN_MS = 2_000;

/** Most entries the memory store keeps (`store.maxEntries` of `{ type: 'memory' }`). */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** A per-call `ttl` on a hit resets the entry's TTL (`updateTtlOnHit`). */
export const DEFAULT_UPDATE_TTL_ON_HIT = true;

/** Calls wait for their cache write before returning (`waitForWrite`). */
export const DEFAULT_WAIT_FOR_WRITE = true;

/** XFetch `beta` of `refreshAhead: true`. */
export const DEFAULT_REFRESH_BETA = 1;

/** The cross-process miss lock's settings under `lock: true`, in ms. */
export const DEFAULT_LOCK = Object.freeze({
  /** How long a lock lives if its holder never releases it. */
  ttlMs: 10_000,
  /** Longest wait for another process's value. */
  waitMs: 5_000,
  /** First delay between two polls; it doubles up to `maxPollMs`. */
  pollMs: 10,
  /** Longest delay between two polls. */
  maxPollMs: 200,
});

/** Longest delay a Node timer can hold (2^31−1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Longest finite TTL (and stale window) an entry can carry: 10^15 ms, about 31,700 years. The entry
 * header holds at most 16 digits; use `Infinity` (or no `ttl`) for "no expiry".
 */
export const MAX_TTL_MS = 1e15;

/** Most entries a memory store may be given (`maxEntries`). */
export const MAX_MEMORY_ENTRIES = 2 ** 31 - 1;

/**
 * How long a tag record lives after it was created or last invalidated, in ms (30 days). Tags are
 * unbounded (`user:42`), so their records must expire; when one does, the entries carrying it
 * become misses (never fresh again) and the next miss creates a new record.
 */
export const TAG_RECORD_TTL_MS = 30 * 24 * 3_600_000;

/** How often each process re-reads the clear generations (`clearPollInterval`), in ms. */
export const DEFAULT_CLEAR_POLL_MS = 1_000;

/** Most tags one call may carry. */
export const MAX_TAGS = 64;

/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 256;

/**
 * The compression algorithm when `compression` names none: raw deflate at level 1, measured against
 * brotli at low qualities on the bench's value, 10 KB and 100 KB (docs/benchmarks.md).
 */
export const DEFAULT_COMPRESSION = 'deflate' as const;
