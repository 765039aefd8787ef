import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import { DEFAULT_MAX_ENTRIES } from '../defaults.js';
import type { Store } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used are evicted first. @defaultValue 10000 */
  maxEntries?: number;
  /** Time source for expiry. @defaultValue `Date.now` */
  clock?: Clock;
}

/**
 * An in-process store on `lru-cache`: bounded by entry count, least-recently-used eviction, per-entry
 * TTL. Holds encoded entries, so values behave exactly as they do with Redis (a cached object is a
 * copy: mutating what a call returned never changes what the next call gets).
 */
export class MemoryStore implements Store<string | Uint8Array> {
  readonly name = 'memory';
  readonly #lru: LRUCache<string, string | Uint8Array>;

  constructor(options: MemoryStoreOptions = {}) {
    const clock = options.clock;
    this.#lru = new LRUCache<string, string | Uint8Array>({
      max: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      // lru-cache reads time through `perf`; an injected clock makes expiry testable without sleeping.
      // The offset keeps a clock that reads 0 from looking like lru-cache's "no start time" marker.
      ...(clock ? { perf: { now: () => clock.now() + CLOCK_OFFSET } } : {}),
      ttlResolution: clock ? 0 : 1,
    });
  }

  get(key: string): string | Uint8Array | undefined {
    return this.#lru.get(key);
  }

  getAndExpire(key: string, ttlMs: number): string | Uint8Array | undefined {
    const value = this.#lru.get(key);
    if (value !== undefined) this.#lru.set(key, value, { ttl: toLruTtl(ttlMs) });
    return value;
  }

  set(key: string, value: string | Uint8Array, ttlMs: number | undefined): void {
    this.#lru.set(key, value, { ttl: toLruTtl(ttlMs) });
  }

  setIfAbsent(key: string, value: string | Uint8Array, ttlMs: number): boolean {
    if (this.#lru.has(key)) return false;
    this.#lru.set(key, value, { ttl: toLruTtl(ttlMs) });
    return true;
  }

  deleteIfEquals(key: string, value: string | Uint8Array): boolean {
    // peek: a compare must not count as a use (it would keep a lock from being evicted first).
    const held = this.#lru.peek(key);
    if (held === undefined || !samePayload(held, value)) return false;
    this.#lru.delete(key);
    return true;
  }

  delete(key: string): boolean {
    // lru-cache's delete reports true for an expired entry it still held: check liveness first.
    const live = this.#lru.has(key);
    this.#lru.delete(key);
    return live;
  }

  /** Remaining time to live of `key` in ms; `Infinity` without expiry, `undefined` when absent. For tests and tools. */
  ttlOf(key: string): number | undefined {
    if (!this.#lru.has(key)) return undefined;
    const remaining = this.#lru.getRemainingTTL(key);
    return remaining;
  }

  /** Number of live entries (expired ones may still be counted until touched). */
  get size(): number {
    return this.#lru.size;
  }

  /** Drop every entry. */
  clear(): void {
    this.#lru.clear();
  }

  async close(): Promise<void> {
    this.#lru.clear();
  }
}

const CLOCK_OFFSET = 1_000_000;

// lru-cache: ttl 0 means "no expiry"; the engine never stores 0, and passes undefined/Infinity for none.
function toLruTtl(ttlMs: number | undefined): number {
  return ttlMs === undefined || ttlMs === Infinity ? 0 : Math.max(1, Math.ceil(ttlMs));
}

function samePayload(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
