/**
 * Invalidation by tag and by clearing: the records entries are checked against, and the stamps that
 * tie an entry to them. O(1) per invalidation, whatever the number of entries it covers: nothing is
 * listed, scanned or deleted but the record itself.
 *
 * A **record** is one store key holding `<hard>.<soft>`, two random tokens:
 * - a tag record, `[namespace:]tag|<tag>`, read with the entry on every hit of a tagged function;
 * - a clear generation, `<namespace>|gen` for `cache.clear()` and `<key head>|gen` for `f.clear()`,
 *   read once per process and then re-read every `clearPollInterval` (so an untagged hit stays one
 *   command).
 *
 * An entry stores, as its **stamps**, the values its records held before its origin started (taken
 * at the read of the miss, or read for the purpose). A reader compares them with the current
 * values: all equal → fresh; a soft token changed (`{ stale: true }`) → stale (served under the
 * function's stale windows, refreshed); a hard token changed or a record missing → gone. So:
 * - an origin that started before an invalidation writes stamps that no longer match: its value is
 *   never served as fresh after the invalidation resolved;
 * - an evicted or expired record is recreated with new random tokens, never an old value: entries
 *   stamped before can only become gone, never fresh again.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { MAX_TAG_LENGTH, MAX_TAGS, MAX_TTL_MS } from './defaults.js';
import type { Store } from './stores/store.js';

/** What a flight run is tied to (its `scope`), for `clear()` and `invalidateTags()` to abandon it. */
export interface RunScopeLike {
  /** The generation keys of the run's function. */
  readonly generations: readonly string[];
  /** The run's tag record keys (computed when asked); `undefined` for an untagged function. */
  tagKeys(): readonly string[] | undefined;
}

/** How a stored entry's stamps compare with the current records. */
export type StampVerdict = 'fresh' | 'stale' | 'gone';

/** Separates the stamps of one entry (record values never hold it). */
const PART = ',';

/** A new random token: 8 base64url characters (48 bits). */
function token(): string {
  return randomBytes(6).toString('base64url');
}

/** The value of a new record, or of one invalidated hard. */
export function newRecordValue(): string {
  return `${token()}.${token()}`;
}

/** `value` with a new soft token: what `{ stale: true }` leaves in a record. */
export function softened(value: string): string {
  const dot = value.indexOf('.');
  return `${dot < 0 ? value : value.slice(0, dot)}.${token()}`;
}

/** The hard part of a record value (up to its `.`). */
function hardOf(value: string): string {
  const dot = value.indexOf('.');
  return dot < 0 ? value : value.slice(0, dot);
}

/** The record key of `tag` under `namespace`. */
export function tagRecordKey(namespace: string | undefined, tag: string): string {
  return namespace ? `${namespace}:tag|${tag}` : `tag|${tag}`;
}

/** The clear generation of a namespace (`cache.clear()`) or of a function's key head (`f.clear()`). */
export function generationKey(prefix: string): string {
  return `${prefix}|gen`;
}

/** Why `tags` is not a valid list of tags (never quoting a tag), or `undefined` when it is. */
export function tagsProblem(tags: unknown): string | undefined {
  if (!Array.isArray(tags)) return `tags must be an array of strings, received ${tags === null ? 'null' : typeof tags}`;
  if (tags.length > MAX_TAGS) return `at most ${MAX_TAGS} tags, received ${tags.length}`;
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i];
    if (typeof tag !== 'string') return `tag ${i} must be a string, received ${tag === null ? 'null' : typeof tag}`;
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) return `tag ${i} must have 1 to ${MAX_TAG_LENGTH} characters, it has ${tag.length}`;
  }
  return undefined;
}

/** An entry's stamps: its function's joined generations, then the values of its tag records, in order. */
export function joinStamps(generations: string, records: readonly string[]): string {
  return records.length === 0 ? generations : `${generations}${PART}${records.join(PART)}`;
}

/**
 * Compare the stamps an entry was written with to the current ones (`expected`, joined the same
 * way). Equal strings (the common case) are fresh without splitting anything.
 */
export function judgeStamps(stored: string | undefined, expected: string): StampVerdict {
  if (stored === expected) return 'fresh';
  // An entry without stamps (written by 0.3) cannot be told apart from one written before a clear.
  if (stored === undefined) return 'gone';
  const was = stored.split(PART);
  const now = expected.split(PART);
  if (was.length !== now.length) return 'gone';
  let verdict: StampVerdict = 'fresh';
  for (let i = 0; i < now.length; i++) {
    const before = was[i] as string;
    const current = now[i] as string;
    if (before === current) continue;
    if (current === '' || hardOf(before) !== hardOf(current)) return 'gone';
    verdict = 'stale';
  }
  return verdict;
}

/**
 * The current values of `keys` (in order), creating the missing ones: a missing record is set to a
 * new value only if still absent (`setIfAbsent`), then read back, so concurrent creators agree on
 * one value. Rejects when the store fails.
 * @param known - values already read (same order), `undefined` where a key was missing or not read.
 */
export async function currentRecords(store: Store, keys: readonly string[], ttlMs: number, known?: ReadonlyArray<string | Uint8Array | undefined>): Promise<string[]> {
  const values = known !== undefined && known.length === keys.length ? known.map(textOf) : await readRecords(store, keys);
  const missing: number[] = [];
  for (let i = 0; i < keys.length; i++) if (values[i] === undefined) missing.push(i);
  if (missing.length > 0) {
    await Promise.all(
      missing.map(async (i) => {
        const key = keys[i] as string;
        if (store.setIfAbsent === undefined) {
          await setIfMissing(store, key, ttlMs);
          values[i] = textOf(await store.get(key));
          return;
        }
        // Sent in the same tick: one round trip, and the read sees whichever value won.
        const [, held] = await Promise.all([store.setIfAbsent(key, newRecordValue(), ttlMs), store.get(key)]);
        values[i] = textOf(held);
      }),
    );
  }
  for (let i = 0; i < keys.length; i++) if (values[i] === undefined) throw new Error('a record could not be created');
  return values as string[];
}

/** A store without `setIfAbsent`: set a new value (two creators may race; the later one wins for both). */
async function setIfMissing(store: Store, key: string, ttlMs: number): Promise<boolean> {
  if ((await store.get(key)) !== undefined) return false;
  await store.set(key, newRecordValue(), ttlMs);
  return true;
}

/** Read `keys` in one round trip (`getMany`), or one `get` each, in parallel. */
export async function readRecords(store: Store, keys: readonly string[]): Promise<Array<string | undefined>> {
  if (keys.length === 0) return [];
  const raw = store.getMany !== undefined ? await store.getMany(keys) : await Promise.all(keys.map((key) => store.get(key)));
  return raw.map(textOf);
}

function textOf(raw: string | Uint8Array | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
}

/**
 * Invalidate the records at `keys` (text values; a binary store keeps them as their bytes). Hard: each gets a new value (old stamps no longer match). Soft
 * (`stale`): each keeps its hard token and gets a new soft one, compared and swapped atomically
 * (`replaceIfEquals`), so a concurrent hard invalidation is never undone; a missing record is left
 * missing (its entries are already gone). Resolves to the values now held (`undefined`: missing).
 * @throws the store's error; {@link TypeError} for `stale` on a store without `replaceIfEquals`.
 */
export async function invalidateRecords(store: Store, keys: readonly string[], options: { stale: boolean; ttlMs: number }): Promise<Array<string | undefined>> {
  if (!options.stale) {
    return Promise.all(
      keys.map(async (key) => {
        const value = newRecordValue();
        await store.set(key, value, options.ttlMs);
        return value;
      }),
    );
  }
  const replace = store.replaceIfEquals?.bind(store);
  if (replace === undefined) throw new TypeError(`the ${store.name} store has no replaceIfEquals, which { stale: true } needs`);
  return Promise.all(
    keys.map(async (key) => {
      // Bounded: each retry means another process changed the record in between.
      for (let attempt = 0; attempt < 16; attempt++) {
        const held = textOf(await store.get(key));
        if (held === undefined) return undefined;
        const next = softened(held);
        if (await replace(key, held, next)) return next;
      }
      throw new Error('the record kept changing while it was being expired');
    }),
  );
}

/** Settings of a cache's clear generations. */
export interface GenerationOptions {
  readonly store: Store;
  /** How often every known generation is re-read, in ms. */
  readonly pollMs: number;
  /** Report a failed poll (never throws). */
  readonly onPollError: (error: unknown) => void;
}

/**
 * The clear generations one cache has seen, by record key, kept in memory so that a hit compares its
 * stamps without reading them. Loaded on a function's first call, re-read every `pollMs` (the bound
 * within which other processes' `clear()` becomes visible here), and changed at once by this
 * process's own `clear()`.
 */
export class Generations {
  readonly #values = new Map<string, string>();
  /** Local changes per key: a poll that started before one must not undo it. */
  readonly #changes = new Map<string, number>();
  /** Loads in flight, by key. */
  readonly #pending = new Map<string, Promise<void>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;
  /** The poll in flight. */
  #current: Promise<void> | undefined;
  #stopped = false;
  /** Bumped on every change of a value: lets each function rebuild its joined stamps lazily. */
  version = 0;

  constructor(private readonly options: GenerationOptions) {}

  /** The current value of `key`, or `undefined` before it is loaded. */
  valueOf(key: string): string | undefined {
    return this.#values.get(key);
  }

  /** Whether every one of `keys` is loaded. */
  has(keys: readonly string[]): boolean {
    for (const key of keys) if (!this.#values.has(key)) return false;
    return true;
  }

  /**
   * Load (or create) the values of `keys`; starts polling. Concurrent loads of a key share one read,
   * so the calls that waited for it resume together. Rejects when the store fails.
   */
  load(keys: readonly string[]): Promise<void> {
    const waits: Array<Promise<void>> = [];
    const wanted: string[] = [];
    for (const key of keys) {
      if (this.#values.has(key)) continue;
      const pending = this.#pending.get(key);
      if (pending !== undefined) waits.push(pending);
      else wanted.push(key);
    }
    if (wanted.length > 0) {
      const changes = wanted.map((key) => this.#changes.get(key) ?? 0);
      const loading = currentRecords(this.options.store, wanted, MAX_TTL_MS).then((values) => {
        wanted.forEach((key, i) => {
          if ((this.#changes.get(key) ?? 0) === changes[i] && !this.#values.has(key)) this.#set(key, values[i] as string);
        });
        this.#startPolling();
      });
      for (const key of wanted) this.#pending.set(key, loading);
      const settled = (): void => {
        for (const key of wanted) if (this.#pending.get(key) === loading) this.#pending.delete(key);
      };
      loading.then(settled, settled);
      waits.push(loading);
    }
    return waits.length === 1 ? (waits[0] as Promise<void>) : Promise.all(waits).then(() => undefined);
  }

  /** Invalidate the generation at `key` (hard, or soft with `stale`), here at once and in the store. */
  async clear(key: string, stale: boolean): Promise<void> {
    this.#changes.set(key, (this.#changes.get(key) ?? 0) + 1);
    const [value] = await invalidateRecords(this.options.store, [key], { stale, ttlMs: MAX_TTL_MS });
    // Counted again after the write: a poll that read the old value while it was in flight is dropped.
    this.#changes.set(key, (this.#changes.get(key) ?? 0) + 1);
    if (value !== undefined) this.#set(key, value);
    else this.#forget(key);
  }

  /** How often the generations are re-read. */
  get pollMs(): number {
    return this.options.pollMs;
  }

  /**
   * Re-read every known generation now, after any poll in flight (which may have read them before a
   * change this one must see). Rejects when the store fails.
   */
  async pollNow(): Promise<void> {
    while (this.#polling && this.#current !== undefined) await this.#current.catch(() => undefined);
    await this.poll();
  }

  /** Re-read every known generation once; a missing one is recreated (its entries become gone). */
  poll(): Promise<void> {
    if (this.#polling || this.#stopped || this.#values.size === 0) return Promise.resolve();
    this.#current = this.#poll();
    return this.#current;
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      const keys = [...this.#values.keys()];
      const changes = keys.map((key) => this.#changes.get(key) ?? 0);
      const values = await currentRecords(this.options.store, keys, MAX_TTL_MS);
      keys.forEach((key, i) => {
        if ((this.#changes.get(key) ?? 0) === changes[i]) this.#set(key, values[i] as string);
      });
    } finally {
      this.#polling = false;
    }
  }

  /** Stop polling (the cache is closing). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #set(key: string, value: string): void {
    if (this.#values.get(key) === value) return;
    this.#values.set(key, value);
    this.version++;
  }

  #forget(key: string): void {
    if (this.#values.delete(key)) this.version++;
  }

  #startPolling(): void {
    if (this.#timer !== undefined || this.#stopped || !(this.options.pollMs > 0)) return;
    this.#timer = setInterval(() => {
      this.poll().catch((error: unknown) => {
        // The cache closed while the poll was in flight: nothing to report.
        if (!this.#stopped) this.options.onPollError(error);
      });
    }, this.options.pollMs);
    this.#timer.unref?.();
  }
}

/**
 * One function's clear generations (its namespace's, then its own), joined as the first part of its
 * entries' stamps. `current()` is what a hit compares with: rebuilt only when a generation changed.
 */
export class FunctionStamps {
  #version = -1;
  #joined: string | undefined;

  constructor(
    private readonly generations: Generations,
    /** The generation record keys, namespace first. */
    readonly keys: readonly string[],
  ) {}

  /** The joined generations, or `undefined` until they are loaded (see {@link FunctionStamps.load}). */
  current(): string | undefined {
    const generations = this.generations;
    if (this.#version === generations.version) return this.#joined;
    this.#version = generations.version;
    const parts: string[] = [];
    for (const key of this.keys) {
      const value = generations.valueOf(key);
      if (value === undefined) return (this.#joined = undefined);
      parts.push(value);
    }
    return (this.#joined = parts.join(PART));
  }

  /** Load the generations (one round trip, once per process). Rejects when the store fails. */
  load(): Promise<void> {
    return this.generations.load(this.keys);
  }
}
