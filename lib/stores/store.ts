/**
 * The store interface that cachette's engine speaks to. A store receives finished keys and opaque
 * payloads; it never builds keys or looks inside values.
 *
 * @remarks
 * Three methods are required; the rest are optional capabilities that the engine detects and falls
 * back from (for example `getAndExpire` → `get`, then no extension; no `setIfAbsent` and
 * `deleteIfEquals` → no cross-process lock, the in-process single-flight only). Later capabilities
 * (compare-and-set for expiring tags) arrive as further optional methods, so a store written against
 * this interface keeps working.
 * @module
 */

import type { StoreHealth } from './breaker.js';

/** A value, or a promise of it: lets an in-process store answer synchronously. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A key/value store with per-entry expiry.
 *
 * @typeParam P - what the store holds: encoded entries (`string`, or `Uint8Array` for binary serializers).
 */
export interface Store<P = string | Uint8Array> {
  /** Short name used in logs, errors and stats, e.g. `'redis'`. */
  readonly name: string;

  /** The payload stored under `key`, or `undefined` on a miss. A cached `null` lives inside the payload. */
  get(key: string): MaybePromise<P | undefined>;

  /**
   * Store `value` under `key`.
   * @param ttlMs - a positive integer number of milliseconds; `undefined` means no expiry (the entry
   *   stays until it is evicted or deleted). Never `0`: the engine does not store zero-TTL values.
   */
  set(key: string, value: P, ttlMs: number | undefined): MaybePromise<void>;

  /** Remove `key`; resolves `true` when an entry was removed. */
  delete(key: string): MaybePromise<boolean>;

  /**
   * Read `key` and, when it exists, reset its time to live to `ttlMs` in the same round trip
   * (Redis `GETEX … PX`). `ttlMs` is a positive number of milliseconds, or `Infinity` to remove the
   * expiry (Redis `GETEX … PERSIST`). Optional: without it the engine reads with `get` and does not extend.
   */
  getAndExpire?(key: string, ttlMs: number): MaybePromise<P | undefined>;

  /**
   * The payloads of `keys`, in the same order, `undefined` for each miss, in one round trip (Redis
   * `MGET`): what `f.many()` reads with. `keys` is never empty. A store for a sharded backend groups
   * the keys by node here. Optional: without it the engine calls `get` for each key, in parallel.
   * @experimental
   */
  getMany?(keys: readonly string[]): MaybePromise<ReadonlyArray<P | undefined>>;

  /**
   * `get`, for a store that keeps its payloads in process: `derive(payload)`, computed once per stored
   * payload and `derive` function and kept beside the payload until it is replaced, removed, evicted
   * or expires; later reads answer with the kept result. The store never looks into it. The memory
   * store has it, so a hit does not decode the same payload again. Optional: without it the engine
   * reads with `get`. @experimental
   */
  getDerived?<T>(key: string, derive: (payload: P) => T): MaybePromise<T | undefined>;

  /**
   * `false` while the store knows it would skip operations (an open circuit breaker): the engine then
   * does not encode or send a write it would only see refused. Optional: without it, always tried.
   */
  isAvailable?(): boolean;

  /**
   * Store `value` under `key` only when `key` holds nothing (Redis `SET … NX PX`). Resolves `true`
   * when this call stored it, `false` when the key already held a value (which is left as it was).
   * The cross-process miss lock takes its lock with this.
   * @param ttlMs - a positive integer number of milliseconds: what is stored this way always expires.
   *   Optional: a store without it (or without `deleteIfEquals`) gets no cross-process lock.
   */
  setIfAbsent?(key: string, value: P, ttlMs: number): MaybePromise<boolean>;

  /**
   * Remove `key` only while it holds exactly `value` (compare-and-delete, atomic: a Lua script on
   * Redis). Resolves `true` when it removed the entry, `false` when the key was absent or held
   * something else (then it is left alone). The miss lock releases its lock with this, so a holder
   * whose lock expired never deletes the lock another process took since.
   */
  deleteIfEquals?(key: string, value: P): MaybePromise<boolean>;

  /**
   * Replace the value of `key` with `value` only while it holds exactly `expected`, keeping its time
   * to live (compare-and-set, atomic: a Lua script on Redis). Resolves `true` when it replaced it.
   * `invalidateTags(tags, { stale: true })` and `clear({ stale: true })` need it; without it they
   * reject, and hard invalidation still works.
   */
  replaceIfEquals?(key: string, expected: P, value: P): MaybePromise<boolean>;

  /**
   * The payload of `key` and its remaining time to live in ms (`undefined`: no expiry), read in one
   * round trip (Redis `GET` and `PTTL`, sent together). The in-process tier fills itself with it, so
   * that what it holds never outlives the stored entry. Optional: without it (and
   * {@link Store.watchKeys}) the tier is not available.
   */
  getWithExpiry?(key: string): MaybePromise<readonly [P | undefined, number | undefined]>;

  /**
   * Announce every change of a key starting with `prefix`, made by anyone (Redis client tracking in
   * broadcast mode): what keeps the in-process tier coherent across processes. Optional.
   * @throws {CacheConfigError} when this store's connection cannot be watched (say why).
   */
  watchKeys?(prefix: string, listener: KeyWatchListener): KeyWatch;

  /**
   * The state of the store's circuit breaker, for `cache.health()`. Optional: a store without it is
   * reported as always `'closed'`.
   */
  health?(): StoreHealth;

  /**
   * Open the store's connection now and resolve once it answers (`cache.connect()` calls it).
   * Optional: without it `cache.connect()` resolves at once. Rejects with a `CacheStoreError` that
   * says why, never with a password.
   */
  connect?(): Promise<void>;

  /** Release what the store opened. A store never closes a client it was given. */
  close?(): Promise<void>;
}

/** Where a {@link KeyWatch} stands: changes are announced only while it is `'ready'`. */
export type KeyWatchState = 'connecting' | 'ready' | 'down';

/** What a {@link KeyWatch} tells: changed keys, its own state, and its failures. */
export interface KeyWatchListener {
  /** `key` changed (`null`: every key may have changed, e.g. `FLUSHALL`). */
  changed(key: string | null): void;
  /** The watch moved to `state`; leaving `'ready'` means changes may have been missed from then on. */
  state(state: KeyWatchState): void;
  /** A failure of the watch's connection (already without passwords), to report. */
  error(error: unknown): void;
}

/** A running watch (see {@link Store.watchKeys}). */
export interface KeyWatch {
  /** Where it stands now: changes are announced only while `'ready'`. */
  readonly state: KeyWatchState;
  /**
   * Set the time to live of `key` to `ttlMs` (`Infinity`: no expiry) without this watch announcing
   * it (its own change), so this process keeps what it holds while the other processes drop their
   * copies. Resolves `false` when the key is gone.
   */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Stop watching and close its connections. */
  close(): Promise<void>;
}
