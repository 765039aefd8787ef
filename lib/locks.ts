/**
 * The cross-process miss lock: one origin call per key across every process sharing a store.
 *
 * The in-process single-flight (`flight.ts`) already gives each process one origin run per key; the
 * lock is taken inside that run, so a process makes one lock attempt per key however many of its
 * callers missed. The attempt is `SET <key>|lock <token> NX PX <ttl>` and, in the same round trip,
 * `GET <key>`:
 * - the key holds a value: that value answers (written by a holder that finished in the meantime);
 * - the lock was taken: this process is the holder. It runs the origin, writes the result, then
 *   releases the lock by compare-and-delete (only while the lock still holds its own token);
 * - otherwise another process holds it: poll with backoff (the same two commands, first after
 *   10 ms (`DEFAULT_LOCK` in `defaults.ts`), doubling to 200 ms, with jitter) until its value appears, the lock
 *   disappears without a value (the holder died and the lock expired, or its origin failed and it
 *   released): take it over; or the wait bound passes: run the origin anyway (fail-open). The wait
 *   is measured on the cache's clock, and ends too once the pauses between polls add up to it (a
 *   clock that stands still cannot make it endless).
 *
 * Why it cannot produce a wrong value: waiters only ever return what a holder wrote to the data key,
 * which is that holder's own fresh result; a holder whose lock expired while its origin still ran
 * writes its own fresh result too (at worst the origin ran twice); and its release cannot delete a
 * lock another process took since, because the release compares the token first.
 *
 * Store failures while locking fall back to running the origin, as every other cache failure does.
 * A store without `setIfAbsent` and `deleteIfEquals` gets no lock: the in-process single-flight only.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { CacheStats } from './stats.js';
import type { Store } from './stores/store.js';

/**
 * What is appended to a data key to make its lock key: `<key>|lock`.
 *
 * A lock key never equals a key cachette builds from arguments: encoded arguments never end in
 * `|lock` (bare words allow only `[A-Za-z0-9_.-]`, everything else ends in `"`, `}`, `]`, `)`, `n` or a
 * digit) and bounded long keys end in a base64url hash. The parts you write yourself are yours to
 * keep apart: a `keyBuilder` result, a fixed `key`, or the `name`/`sharedContext`/`version` of a
 * function without arguments should not end in `|lock`.
 */
export const LOCK_SUFFIX = '|lock';

/** The lock key of data key `key`: `<key>|lock`. */
export function lockKeyOf(key: string): string {
  return key + LOCK_SUFFIX;
}

/** A lock configuration resolved to milliseconds. */
export interface LockSettings {
  /** How long a lock lives when its holder never releases it. */
  readonly ttlMs: number;
  /** Longest wait for another process's value before running the origin anyway. */
  readonly waitMs: number;
  /** First delay between polls; it doubles up to `maxPollMs`. */
  readonly pollMs: number;
  /** Longest delay between polls. */
  readonly maxPollMs: number;
}

/** What the engine hands the lock for one miss. */
export interface LockedMiss {
  readonly store: Store;
  /** The data key. */
  readonly key: string;
  readonly stats: CacheStats;
  /** Wait for the write (and, as the holder, the release) before answering: the call's `waitForWrite`. */
  readonly waitForWrite: boolean;
  /** What the data key holds, as a hit would return it (`{ value }`), or `undefined` when not usable. */
  decode(raw: string | Uint8Array): { value: unknown } | undefined | Promise<{ value: unknown } | undefined>;
  /**
   * Run the origin and store its result. `stored` settles (never rejects) once the write is done,
   * or at once when nothing is written. Rejects with the origin's error.
   */
  compute(): Promise<{ value: unknown; stored: Promise<void> }>;
  /** Count (`stats.errors`) and log a store failure of the lock; never throws. */
  fail(error: unknown, message: string): void;
  /** Log, without counting an error, that the lock expired before the holder released it. */
  lost(): void;
  /** Keep a background promise until it settles (`cache.close()` waits for it). */
  track(work: Promise<unknown>): void;
  /** The time in ms (the cache's clock), for the `wait` bound. */
  now(): number;
  /** Told once when the miss finds the lock held by another process and starts waiting. */
  waited?(): void;
  /** Wait `ms` between two polls. @defaultValue a `setTimeout` */
  sleep?(ms: number): Promise<void>;
}

/** True when `store` can take and release the lock. */
export function canLock(store: Store): boolean {
  return store.setIfAbsent !== undefined && store.deleteIfEquals !== undefined;
}

/**
 * Answer one miss under the lock: run the origin as the holder, or return the value the holder in
 * another process writes. Settles like the origin (its error included) when this process runs it.
 */
export async function runLocked(settings: LockSettings, miss: LockedMiss): Promise<unknown> {
  const { store, key } = miss;
  if (!canLock(store)) return runOrigin(miss);
  const lockKey = lockKeyOf(key);
  const token = randomUUID();
  const started = miss.now();
  const pause = miss.sleep ?? sleep;
  // The wait is measured by the clock (round trips included) and by the pauses asked for: a clock
  // that stands still (a test's, or one set back) still ends the wait once the pauses add up to it.
  let paused = 0;
  let delay = settings.pollMs;
  let waited = false;
  for (;;) {
    const attempt = await tryLock(store, key, lockKey, token, settings.ttlMs);
    if (attempt.error !== undefined) {
      miss.fail(attempt.error, 'cachette: the miss lock failed; calling the origin without it');
      return attempt.taken ? hold(miss, lockKey, token) : runOrigin(miss);
    }
    let found = attempt.raw === undefined ? undefined : miss.decode(attempt.raw);
    if (found instanceof Promise) found = await found; // an async schema
    if (found !== undefined) {
      // The holder finished between our read and this attempt: its value answers, never written again.
      if (attempt.taken) miss.track(release(miss, lockKey, token));
      return found.value;
    }
    if (attempt.taken) {
      if (waited) miss.stats.lockTakeovers++;
      return hold(miss, lockKey, token);
    }
    if (!waited) {
      waited = true;
      miss.stats.lockWaits++;
      miss.waited?.();
    }
    const left = settings.waitMs - Math.max(miss.now() - started, paused);
    if (left <= 0) {
      miss.stats.lockTimeouts++;
      return runOrigin(miss);
    }
    const pauseMs = Math.min(withJitter(delay), left);
    paused += pauseMs;
    await pause(pauseMs);
    delay = Math.min(delay * 2, settings.maxPollMs);
  }
}

interface Attempt {
  readonly taken: boolean;
  readonly raw: string | Uint8Array | undefined;
  readonly error: unknown;
}

/**
 * `SET lock NX PX` and `GET key`, sent together: one round trip. On one Redis connection they run in
 * this order, so a value its holder wrote before releasing the lock is always seen by an attempt
 * that finds the lock free.
 */
async function tryLock(store: Store, key: string, lockKey: string, token: string, ttlMs: number): Promise<Attempt> {
  const [taking, reading] = await Promise.allSettled([
    invoke(() => store.setIfAbsent!(lockKey, token, ttlMs)),
    invoke(() => store.get(key)),
  ]);
  const taken = taking.status === 'fulfilled' && taking.value;
  if (taking.status === 'rejected') return { taken: false, raw: undefined, error: taking.reason };
  if (reading.status === 'rejected') return { taken, raw: undefined, error: reading.reason };
  return { taken, raw: reading.value, error: undefined };
}

/** Call a store method whose answer may be synchronous, turning a synchronous throw into a rejection. */
async function invoke<T>(operation: () => T | Promise<T>): Promise<T> {
  return operation();
}

/** Run the origin without the lock (fail-open, or no lock to take). */
async function runOrigin(miss: LockedMiss): Promise<unknown> {
  const { value, stored } = await miss.compute();
  if (miss.waitForWrite) await stored;
  return value;
}

/** Run the origin as the lock holder: write, then release; a failed origin releases at once. */
async function hold(miss: LockedMiss, lockKey: string, token: string): Promise<unknown> {
  let computed: { value: unknown; stored: Promise<void> };
  try {
    computed = await miss.compute();
  } catch (error) {
    // Waiters poll for the lock to disappear: free it now, so one of them takes over at once.
    await release(miss, lockKey, token);
    throw error;
  }
  // Release only after the write: a waiter that finds the lock gone must find the value too.
  const released = computed.stored.then(() => release(miss, lockKey, token));
  miss.track(released);
  if (miss.waitForWrite) await released;
  return computed.value;
}

/** Compare-and-delete the lock. Never rejects: a failure is reported and the lock expires by itself. */
async function release(miss: LockedMiss, lockKey: string, token: string): Promise<void> {
  try {
    const removed = await miss.store.deleteIfEquals!(lockKey, token);
    if (!removed) miss.lost();
  } catch (error) {
    miss.fail(error, 'cachette: the miss lock could not be released; it expires after its ttl');
  }
}

/** Equal jitter: half the delay fixed, half random, so waiting processes spread their polls. */
function withJitter(delay: number): number {
  return delay / 2 + Math.random() * (delay / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
