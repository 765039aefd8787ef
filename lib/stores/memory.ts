import { LRUCache } from 'lru-cache';
import { guardedClock, type Clock } from '../clock.js';
import { DEFAULT_MAX_ENTRIES } from '../defaults.js';
import type { Store } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used are evicted first. Memory grows with the entries
   * actually stored, not with this bound. Locks taken with `setIfAbsent` are kept apart and do not
   * count. @defaultValue 10000
   */
  maxEntries?: number;
  /** Time source for expiry. @defaultValue `Date.now` */
  clock?: Clock;
}

/**
 * How many locks (entries written with `setIfAbsent`: the miss lock's) a memory store keeps apart
 * from its entries; beyond it the least recently taken is dropped. Locks expire by themselves.
 */
export const MAX_MEMORY_LOCKS = 10_000;

/** What the memory store holds per key: an encoded entry (text, or bytes for binary serializers). */
export type MemoryPayload = string | Uint8Array;

/**
 * An in-process store on `lru-cache`: bounded by entry count, least-recently-used eviction, per-entry
 * TTL. Holds encoded entries, so values behave exactly as they do with Redis (a cached object is a
 * copy: mutating what a call returned never changes what the next call gets).
 *
 * Locks (`setIfAbsent`) live in a table of their own, so taking one never evicts an entry and
 * `maxEntries` counts entries only; every method sees both tables as one key space.
 */
export class MemoryStore implements Store<MemoryPayload> {
  readonly name = 'memory';
  readonly #lru: LRUCache<string, MemoryPayload>;
  readonly #locks: LRUCache<string, MemoryPayload>;

  constructor(options: MemoryStoreOptions = {}) {
    this.#lru = table(options.maxEntries ?? DEFAULT_MAX_ENTRIES, options.clock);
    this.#locks = table(MAX_MEMORY_LOCKS, options.clock);
  }

  get(key: string): MemoryPayload | undefined {
    return this.#lru.get(key) ?? (this.#locks.size === 0 ? undefined : this.#locks.get(key));
  }

  /** The payloads of `keys`, in order (`undefined` for a missing key), synchronously. */
  getMany(keys: readonly string[]): Array<MemoryPayload | undefined> {
    return keys.map((key) => this.get(key));
  }

  getAndExpire(key: string, ttlMs: number): MemoryPayload | undefined {
    const value = this.#lru.get(key);
    if (value !== undefined) this.#lru.set(key, value, { ttl: toLruTtl(ttlMs) });
    return value;
  }

  set(key: string, value: MemoryPayload, ttlMs: number | undefined): void {
    if (this.#locks.size !== 0) this.#locks.delete(key);
    this.#lru.set(key, value, { ttl: toLruTtl(ttlMs) });
  }

  setIfAbsent(key: string, value: MemoryPayload, ttlMs: number): boolean {
    if (this.#lru.has(key) || this.#locks.has(key)) return false;
    this.#locks.set(key, value, { ttl: toLruTtl(ttlMs) });
    return true;
  }

  deleteIfEquals(key: string, value: MemoryPayload): boolean {
    // peek: a compare must not count as a use (it would keep a lock from being evicted first).
    for (const table of [this.#locks, this.#lru]) {
      const held = table.peek(key);
      if (held === undefined) continue;
      if (!sameMemoryPayload(held, value)) return false;
      table.delete(key);
      return true;
    }
    return false;
  }

  replaceIfEquals(key: string, expected: MemoryPayload, value: MemoryPayload): boolean {
    // Either table: what setIfAbsent stored lives beside the entries until it is replaced.
    for (const table of [this.#locks, this.#lru]) {
      const held = table.peek(key);
      if (held === undefined) continue;
      if (!sameMemoryPayload(held, expected)) return false;
      table.set(key, value, { noUpdateTTL: true });
      return true;
    }
    return false;
  }

  delete(key: string): boolean {
    // lru-cache's delete reports true for an expired entry it still held: check liveness first.
    const live = this.#lru.has(key) || this.#locks.has(key);
    this.#lru.delete(key);
    this.#locks.delete(key);
    return live;
  }

  /** Remaining time to live of `key` in ms; `Infinity` without expiry, `undefined` when absent. For tests and tools. */
  ttlOf(key: string): number | undefined {
    if (this.#lru.has(key)) return this.#lru.getRemainingTTL(key);
    if (this.#locks.has(key)) return this.#locks.getRemainingTTL(key);
    return undefined;
  }

  /** Number of live entries, locks not included (expired ones may still be counted until touched). */
  get size(): number {
    return this.#lru.size;
  }

  /** Drop every entry and every lock. */
  clear(): void {
    this.#lru.clear();
    this.#locks.clear();
  }

  async close(): Promise<void> {
    this.clear();
  }
}

/**
 * One lru-cache table holding at most `max` entries. Bounded by `maxSize` with each entry of size 1
 * rather than by `max`: `max` makes lru-cache allocate typed arrays of that length up front
 * (`maxEntries: 1e8` took 1.7 GB and 21 s at construction; 2^32 threw a RangeError), while `maxSize`
 * grows its arrays with the entries stored. Measured: the same get and set cost either way.
 */
function table(max: number, clock: Clock | undefined): LRUCache<string, MemoryPayload> {
  // A clock reading that is not a time (NaN, negative) would make entries never expire.
  const time = clock === undefined ? undefined : guardedClock(clock, () => {});
  return new LRUCache<string, MemoryPayload>({
    maxSize: max,
    sizeCalculation: entrySize,
    // lru-cache reads time through `perf`; an injected clock makes expiry testable without sleeping.
    // The offset keeps a clock that reads 0 from looking like lru-cache's "no start time" marker.
    ...(time ? { perf: { now: () => time.now() + CLOCK_OFFSET } } : {}),
    ttlResolution: time ? 0 : 1,
  });
}

const entrySize = (): number => 1;

const CLOCK_OFFSET = 1_000_000;

// lru-cache: ttl 0 means "no expiry"; the engine never stores 0, and passes undefined/Infinity for none.
function toLruTtl(ttlMs: number | undefined): number {
  return ttlMs === undefined || ttlMs === Infinity ? 0 : Math.max(1, Math.ceil(ttlMs));
}

function sameMemoryPayload(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
