/**
 * The in-process tier (`l1`): decoded entries held in this process in front of a shared store, kept
 * coherent by the store's key watch (Redis client tracking).
 *
 * Rules it keeps:
 * - it serves only while the watch is `'ready'`; every other state, and every move out of `'ready'`,
 *   empties it, so an entry whose change it could have missed is never served;
 * - an entry never outlives the store's: its local expiry is the time its read was sent plus the
 *   remaining TTL the store answered (and `l1.ttl` when set);
 * - a fill (an entry read from the store, to be held) is begun before the read is sent and kept only
 *   when no change of its key and no flush arrived meanwhile: the change notification and the read's
 *   answer travel on different connections, in either order.
 * @module
 */
import { LRUCache } from 'lru-cache';
import { heldDecoder, type Entry, type HeldEntry } from './entry.js';
import type { Serializer } from './serializers/serializer.js';

/** What a tier hit hands out: the one decoded object (`'shared'`), that object deep-frozen, or a fresh decode per hit. */
export type TierValues = 'shared' | 'frozen' | 'copied';

/** Where the tier's invalidation channel stands: it serves only when `'ready'`. */
export type TierState = 'connecting' | 'ready' | 'down';

/** The tier's part of `cache.health()`. */
export interface TierHealth {
  /** `'ready'`: the invalidation channel is up and the tier serves; otherwise it is empty and bypassed. */
  readonly state: TierState;
  /** Entries held now. */
  readonly entries: number;
  /** Times it was emptied because the channel dropped, or a change of every key (`FLUSHALL`) was announced. */
  readonly flushes: number;
}

/** One entry held by the tier. */
export interface Held {
  readonly entry: Entry;
  /** `'copied'` mode only: hands out a copy of the value per hit (as a store hit would decode it). */
  readonly copies: HeldEntry | undefined;
  /**
   * When the entry expires in the store, as far as this process knows (the cache's clock; `Infinity`:
   * no expiry). It is not served from then on, nor from `capAt`.
   */
  storeExpiresAt: number;
  /** `fill start + l1.ttl` (`Infinity` without `l1.ttl`): never served past this, whatever the extensions. */
  readonly capAt: number;
}

/** A fill in progress: taken before the read, given back with {@link Tier.commit} or {@link Tier.end}. */
export interface Fill {
  readonly key: string;
  readonly epoch: number;
  readonly seq: number;
  /** When the read was sent (the cache's clock): the remaining TTL the store answers counts from here. */
  readonly startedAt: number;
}

/** Options of {@link Tier}, resolved from the `l1` option. */
export interface TierOptions {
  readonly maxEntries: number;
  readonly maxBytes: number | undefined;
  readonly ttlMs: number | undefined;
  readonly values: TierValues;
  readonly now: () => number;
  /** The cache's serializer (`'copied'` mode decodes with it). */
  readonly serializer: Serializer;
}

export class Tier {
  readonly values: TierValues;
  #state: TierState = 'connecting';
  /** Bumped by every flush: a fill begun before it is void. */
  #epoch = 0;
  #seq = 0;
  /** Keys with fills in flight: how many, and the last `#seq` at which a change of the key arrived. */
  readonly #filling = new Map<string, { count: number; changedAt: number }>();
  readonly #table: LRUCache<string, Held>;
  /** Record values (tag records) read with the entries: key → value. */
  readonly #records = new Map<string, { value: string; expiresAt: number }>();
  /** Reloads of the clear generations in progress (announced by the watch): nothing is served meanwhile. */
  #holds = 0;
  #flushes = 0;

  constructor(private readonly options: TierOptions) {
    this.values = options.values;
    const { maxBytes, maxEntries } = options;
    // Bounded through maxSize (each entry set with size 1 without maxBytes): lru-cache's `max`
    // allocates its arrays up front, maxSize grows them with the entries.
    this.#table = new LRUCache<string, Held>({
      maxSize: maxBytes ?? maxEntries,
    });
  }

  /** The channel's state. Any move out of `'ready'` empties the tier. */
  get state(): TierState {
    return this.#state;
  }

  set state(state: TierState) {
    if (this.#state === 'ready' && state !== 'ready') this.flush();
    this.#state = state;
  }

  /** Whether lookups may be answered now. */
  get serving(): boolean {
    return this.#state === 'ready' && this.#holds === 0;
  }

  /** The held entry for `key`, if one may be served now (ready, not expired). */
  lookup(key: string): Held | undefined {
    if (this.#state !== 'ready' || this.#holds !== 0) return undefined;
    const held = this.#table.get(key);
    if (held === undefined) return undefined;
    if (Math.min(held.storeExpiresAt, held.capAt) <= this.options.now()) {
      this.#table.delete(key);
      return undefined;
    }
    return held;
  }

  /** The held value of record `key` (a tag record), if any. */
  record(key: string): string | undefined {
    const held = this.#records.get(key);
    if (held === undefined) return undefined;
    if (held.expiresAt <= this.options.now()) {
      this.#records.delete(key);
      return undefined;
    }
    return held.value;
  }

  /** Start a fill of `key`: `undefined` when the tier does not serve now (nothing to fill). */
  begin(key: string): Fill | undefined {
    if (this.#state !== 'ready') return undefined;
    const seq = ++this.#seq;
    const filling = this.#filling.get(key);
    if (filling === undefined) this.#filling.set(key, { count: 1, changedAt: 0 });
    else filling.count++;
    return { key, epoch: this.#epoch, seq, startedAt: this.options.now() };
  }

  /** Whether `fill` may still be kept: no flush and no change of its key since it began. */
  valid(fill: Fill): boolean {
    if (fill.epoch !== this.#epoch || this.#state !== 'ready') return false;
    const filling = this.#filling.get(fill.key);
    return filling !== undefined && filling.changedAt < fill.seq;
  }

  /**
   * End `fill`, keeping `entry` when it is still valid. `remainingMs` is the TTL the store answered
   * for the key (`undefined`: no expiry); `size` counts toward `maxBytes`.
   */
  commit(fill: Fill, entry: Entry, raw: string | Uint8Array, remainingMs: number | undefined): void {
    const { maxBytes, maxEntries, ttlMs } = this.options;
    const storeExpiresAt = fill.startedAt + (remainingMs ?? Infinity);
    const capAt = fill.startedAt + (ttlMs ?? Infinity);
    // An entry larger than maxBytes alone is not held (it is served from the store).
    const size = maxBytes === undefined ? 1 : sizeOf(fill.key, raw);
    if (this.valid(fill) && Math.min(storeExpiresAt, capAt) > this.options.now() && (maxBytes === undefined || size <= maxBytes)) {
      if (this.values === 'frozen') deepFreeze(entry.value);
      // With maxBytes the table is bounded in bytes: the entry count is kept here.
      if (maxBytes !== undefined && !this.#table.has(fill.key)) while (this.#table.size >= maxEntries) this.#table.pop();
      const copies = this.values === 'copied' ? heldDecoder(this.options.serializer)(raw) : undefined;
      this.#table.set(fill.key, { entry, copies, storeExpiresAt, capAt }, { size });
    }
    this.end(fill);
  }

  /** End `fill`, keeping record `value` when still valid. */
  commitRecord(fill: Fill, value: string, remainingMs: number | undefined): void {
    const expiresAt = fill.startedAt + Math.min(remainingMs ?? Infinity, this.options.ttlMs ?? Infinity);
    if (this.valid(fill) && expiresAt > this.options.now()) this.#records.set(fill.key, { value, expiresAt });
    this.end(fill);
  }

  /** End `fill` without keeping anything. */
  end(fill: Fill): void {
    const filling = this.#filling.get(fill.key);
    if (filling === undefined) return;
    if (--filling.count === 0) this.#filling.delete(fill.key);
  }

  /**
   * Whether a per-call ttl of `ttlMs` needs an extension in the store: not while what is held for
   * `key` is known to live there at least that long already.
   */
  needsExtension(key: string, ttlMs: number): boolean {
    const held = this.#table.peek(key);
    if (held === undefined) return true;
    return ttlMs === Infinity ? held.storeExpiresAt !== Infinity : held.storeExpiresAt - this.options.now() < ttlMs;
  }

  /** The entry at `key` now lives `ttlMs` from `since` in the store (`Infinity`: no expiry). */
  extended(key: string, since: number, ttlMs: number): void {
    const held = this.#table.peek(key);
    if (held === undefined) return;
    held.storeExpiresAt = since + ttlMs;
  }

  /**
   * `key` changed in the store (`null`: every key): drop it here, and void its fills in flight.
   * @returns whether anything of `key` was here (an entry, a tag record or a fill); always true for `null`.
   */
  changed(key: string | null): boolean {
    if (key === null) {
      this.flush();
      return true;
    }
    const held = this.#table.delete(key);
    const record = this.#records.delete(key);
    const filling = this.#filling.get(key);
    if (filling !== undefined) filling.changedAt = this.#seq;
    return held || record || filling !== undefined;
  }

  /** Serve nothing until the matching {@link Tier.release} (a clear generation is being re-read). */
  hold(): void {
    this.#holds++;
  }

  release(): void {
    if (this.#holds > 0) this.#holds--;
  }

  /** Drop everything held, and void every fill in flight. */
  flush(): void {
    this.#epoch++;
    this.#flushes++;
    this.#table.clear();
    this.#records.clear();
  }

  health(): TierHealth {
    return { state: this.#state, entries: this.#table.size, flushes: this.#flushes };
  }
}

/** What a held entry counts toward `maxBytes`: its encoded size (UTF-16 code units count 2) and its key's. */
function sizeOf(key: string, raw: string | Uint8Array): number {
  return 2 * key.length + (typeof raw === 'string' ? 2 * raw.length : raw.byteLength) || 1;
}

/** Freeze `value` and everything reachable through its own properties (plain objects and arrays). */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}
