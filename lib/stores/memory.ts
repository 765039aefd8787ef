import { LRUCache } from 'lru-cache';
import { guardedClock, systemClock, type Clock } from '../clock.js';
import { DEFAULT_MAX_ENTRIES } from '../defaults.js';
import { CacheStoreError } from '../errors.js';
import type { Store } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used are evicted first. Memory grows with the entries
   * actually stored, not with this bound. Locks taken with `setIfAbsent` are kept apart and do not
   * count. @defaultValue 10000
   */
  maxEntries?: number;
  /**
   * Most bytes the entries may take, counted per entry as its key and its encoded payload (2 bytes a
   * character for text, the byte length for binary payloads); the least recently used are evicted
   * first once a write would pass it. An entry larger than this on its own is not stored (the write
   * throws a {@link CacheStoreError}, which the engine counts and reports; an older value under the
   * key is removed). What a hit keeps beside a payload (its decoded value, see
   * {@link MemoryStore.getDerived}) and the locks are not counted. `undefined`: bounded by
   * `maxEntries` only. @defaultValue undefined
   */
  maxBytes?: number;
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
 * An in-process store on `lru-cache`: bounded by entry count (and optionally by bytes),
 * least-recently-used eviction, per-entry TTL. Holds encoded entries, so values behave exactly as they
 * do with Redis (a cached object is a copy: mutating what a call returned never changes what the next
 * call gets). Beside a payload it keeps what the first hit decoded from it
 * ({@link MemoryStore.getDerived}), so later hits copy the value instead of parsing it again.
 *
 * Locks (`setIfAbsent`) live in a table of their own, so taking one never evicts an entry and
 * `maxEntries` counts entries only; every method sees both tables as one key space.
 */
export class MemoryStore implements Store<MemoryPayload> {
  readonly name = 'memory';
  readonly #lru: LRUCache<string, Slot>;
  readonly #locks: LRUCache<string, MemoryPayload>;
  /** The entry bound when `maxBytes` holds lru-cache's size bound (else lru-cache keeps it). */
  readonly #maxEntries: number;
  readonly #maxBytes: number | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxBytes = options.maxBytes;
    this.#lru = table<Slot>(this.#maxBytes ?? this.#maxEntries, this.#maxBytes === undefined ? oneEntry : slotBytes, options.clock);
    this.#locks = table<MemoryPayload>(MAX_MEMORY_LOCKS, oneEntry, options.clock);
  }

  get(key: string): MemoryPayload | undefined {
    const slot = this.#lru.get(key);
    if (slot !== undefined) return slot.payload;
    return this.#locks.size === 0 ? undefined : this.#locks.get(key);
  }

  /**
   * `derive(payload)` for the payload of `key`, computed on the first read with this `derive` after
   * the payload was stored and kept beside it for the next reads (a lock's payload is derived on
   * every read). `undefined` when `key` is absent.
   */
  getDerived<T>(key: string, derive: (payload: MemoryPayload) => T): T | undefined {
    const slot = this.#lru.get(key);
    if (slot === undefined) {
      const lock = this.#locks.size === 0 ? undefined : this.#locks.get(key);
      return lock === undefined ? undefined : derive(lock);
    }
    if (slot.derivedBy !== derive) {
      slot.derived = derive(slot.payload);
      slot.derivedBy = derive;
    }
    return slot.derived as T;
  }

  /** The payloads of `keys`, in order (`undefined` for a missing key), synchronously. */
  getMany(keys: readonly string[]): Array<MemoryPayload | undefined> {
    return keys.map((key) => this.get(key));
  }

  getAndExpire(key: string, ttlMs: number): MemoryPayload | undefined {
    const slot = this.#lru.get(key);
    if (slot === undefined) return undefined;
    this.#lru.set(key, slot, { ttl: toLruTtl(ttlMs) });
    return slot.payload;
  }

  /**
   * @throws {CacheStoreError} when `maxBytes` is set and the entry alone is larger: it is not stored,
   *   and what `key` held before is removed.
   */
  set(key: string, value: MemoryPayload, ttlMs: number | undefined): void {
    if (this.#locks.size !== 0) this.#locks.delete(key);
    this.#store(key, new Slot(value), { ttl: toLruTtl(ttlMs) });
  }

  setIfAbsent(key: string, value: MemoryPayload, ttlMs: number): boolean {
    if (this.#lru.has(key) || this.#locks.has(key)) return false;
    this.#locks.set(key, value, { ttl: toLruTtl(ttlMs) });
    return true;
  }

  deleteIfEquals(key: string, value: MemoryPayload): boolean {
    // peek: a compare must not count as a use (it would keep a lock from being evicted first).
    const lock = this.#locks.peek(key);
    if (lock !== undefined) {
      if (!sameMemoryPayload(lock, value)) return false;
      this.#locks.delete(key);
      return true;
    }
    const slot = this.#lru.peek(key);
    if (slot === undefined || !sameMemoryPayload(slot.payload, value)) return false;
    this.#lru.delete(key);
    return true;
  }

  replaceIfEquals(key: string, expected: MemoryPayload, value: MemoryPayload): boolean {
    // Either table: what setIfAbsent stored lives beside the entries until it is replaced.
    const lock = this.#locks.peek(key);
    if (lock !== undefined) {
      if (!sameMemoryPayload(lock, expected)) return false;
      this.#locks.set(key, value, { noUpdateTTL: true });
      return true;
    }
    const slot = this.#lru.peek(key);
    if (slot === undefined || !sameMemoryPayload(slot.payload, expected)) return false;
    this.#store(key, new Slot(value), { noUpdateTTL: true });
    return true;
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

  /** Bytes the entries take as `maxBytes` counts them (key and payload); 0 without `maxBytes`. For tests and tools. */
  get bytes(): number {
    return this.#maxBytes === undefined ? 0 : this.#lru.calculatedSize;
  }

  /** Drop every entry and every lock. */
  clear(): void {
    this.#lru.clear();
    this.#locks.clear();
  }

  async close(): Promise<void> {
    this.clear();
  }

  /** Write a slot into the entries' table, within both bounds. */
  #store(key: string, slot: Slot, options: LRUCache.SetOptions<string, Slot, unknown>): void {
    if (this.#maxBytes === undefined) {
      this.#lru.set(key, slot, options);
      return;
    }
    const size = slotBytes(slot, key);
    if (size > this.#maxBytes) {
      // Never leave the previous value to be served in place of the one refused.
      this.#lru.delete(key);
      throw new CacheStoreError(`cachette: memory store: an entry of ${size} bytes is larger than maxBytes (${this.#maxBytes}); it was not stored`, this.name);
    }
    this.#lru.set(key, slot, { ...options, size });
    // lru-cache holds the byte bound here; the entry bound is kept by evicting the least recently used.
    while (this.#lru.size > this.#maxEntries) this.#lru.pop();
  }
}

/** One entry: its payload, and what a reader derived from it (see {@link MemoryStore.getDerived}). */
class Slot {
  derived: unknown = undefined;
  derivedBy: unknown = undefined;
  constructor(readonly payload: MemoryPayload) {}
}

/**
 * One lru-cache table bounded by `maxSize` (entries of size 1, or bytes). Bounded this way rather
 * than by `max`: `max` makes lru-cache allocate typed arrays of that length up front
 * (`maxEntries: 1e8` took 1.7 GB and 21 s at construction; 2^32 threw a RangeError), while `maxSize`
 * grows its arrays with the entries stored. Measured: the same get and set cost either way.
 */
function table<V extends MemoryPayload | Slot>(maxSize: number, sizeOf: (value: V, key: string) => number, clock: Clock | undefined): LRUCache<string, V> {
  // A clock reading that is not a time (NaN, negative) would make entries never expire. The system
  // clock is left to lru-cache's own (performance.now(), monotonic): a hit then reads the time without
  // our wrappers. Read on every check (resolution 0): one cached for a millisecond made ttlOf report
  // more than the ttl just set.
  const time = clock === undefined || clock === systemClock ? undefined : guardedClock(clock, () => {});
  return new LRUCache<string, V>({
    maxSize,
    sizeCalculation: sizeOf,
    // lru-cache reads time through `perf`; an injected clock makes expiry testable without sleeping.
    // The offset keeps a clock that reads 0 from looking like lru-cache's "no start time" marker.
    ...(time ? { perf: { now: () => time.now() + CLOCK_OFFSET } } : {}),
    ttlResolution: 0,
  });
}

const oneEntry = (): number => 1;

/** What `maxBytes` counts for an entry: its key and its payload, 2 bytes a character for text. */
function slotBytes(slot: Slot, key: string): number {
  const payload = slot.payload;
  return key.length * 2 + (typeof payload === 'string' ? payload.length * 2 : payload.byteLength);
}

const CLOCK_OFFSET = 1_000_000;

// lru-cache: ttl 0 means "no expiry"; the engine never stores 0, and passes undefined/Infinity for none.
function toLruTtl(ttlMs: number | undefined): number {
  return ttlMs === undefined || ttlMs === Infinity ? 0 : Math.max(1, Math.ceil(ttlMs));
}

function sameMemoryPayload(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
