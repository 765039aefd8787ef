/**
 * What one call did, for `node:diagnostics_channel` subscribers and for `f.withMeta()`: its outcome
 * (hit, miss, stale …), the tier that answered, whether it waited on the cross-process lock, and
 * the age and remaining ttl of the value when known; plus the plain channels for invalidations,
 * breaker state changes and the in-process tier's coherence events.
 *
 * Nothing here runs unless someone asked: a call is recorded only when `cachette:call` has
 * subscribers or the caller used `withMeta`, and a plain channel's event is built only when that
 * channel has subscribers. No event carries an argument, a key or a value (a key's hash at most).
 * @module
 */
import { createHash } from 'node:crypto';
import { channel, tracingChannel, type Channel, type TracingChannel } from 'node:diagnostics_channel';
import type { Entry, HeldEntry } from './entry.js';
import type { FlightRun } from './flight.js';

/**
 * How a call was answered:
 * - `'hit'`: a fresh entry (from the store or the in-process tier);
 * - `'stale'`: an entry past its ttl (`staleWhileRevalidate`, or the fallback of a slow or failing
 *   origin: `timeout.soft`, `staleIfError`);
 * - `'miss'`: nothing usable was stored (or `cacheRead: false`): this call ran the origin;
 * - `'coalesced'`: a miss that joined an origin run already in flight in this process;
 * - `'bypass'`: `bypassCache`: the origin answered, the cache was not read;
 * - `'refresh'`: `forceRefresh` or `f.refresh()`: the origin answered and its result was stored;
 * - `'error'`: the call rejected (trace events only: `withMeta` rejects instead).
 */
export type CallStatus = 'hit' | 'stale' | 'miss' | 'coalesced' | 'bypass' | 'refresh' | 'error';

/** Where a call's value came from: the in-process tier (`l1`), the store, or the origin (the wrapped function). */
export type CallTier = 'l1' | 'store' | 'origin';

/**
 * The context object of the `cachette:call` TracingChannel: one per call, the same object in its
 * `start`, `end`, `asyncStart`, `asyncEnd` and `error` events. `status`, `tier`, `lockWait`, `age`
 * and `ttl` are set by the time `asyncEnd` (or `error`) is published; at `start` only `name` and
 * `keyHash` are.
 *
 * It never holds the call's arguments, key or value: `result` is never set, unlike a
 * `tracePromise` context. `error` is what the call rejected with (the origin's own error, or one of
 * cachette's, which carry no arguments).
 */
export interface CallEvent {
  /** The cached function's name (its `name` option, or the function's own). */
  readonly name: string;
  /**
   * A hash of the call's store key (16 hex digits of its SHA-256): the same for every call of one key,
   * so hot keys can be counted without exposing the key.
   */
  readonly keyHash: string;
  /** How the call was answered; `'error'` when it rejected. */
  readonly status: CallStatus;
  /** Where its value came from. */
  readonly tier: CallTier;
  /** Whether its origin run (this call's, or the one it joined) waited on the cross-process `lock` held by another process. */
  readonly lockWait: boolean;
  /** The call went forward to the origin (see {@link CallMeta.forwarded}). */
  readonly forwarded: boolean;
  /** The age of the value in ms, when known (0 for a value the origin just returned). */
  readonly age: number | undefined;
  /**
   * The value's remaining freshness in ms, when known: negative for a stale value, `Infinity` for one
   * stored without expiry, `undefined` when unknown or not stored (a bypass).
   */
  readonly ttl: number | undefined;
  /**
   * How long the origin took in ms, when this call ran it or joined a run of it in this process
   * (`undefined` for hits, for a pure `bypassCache` call, and for a value another process's lock holder wrote).
   */
  readonly originMs: number | undefined;
  /** Why the call rejected (set with `status: 'error'`). */
  readonly error?: unknown;
}

/**
 * The value of one call and how it was answered: what {@link CachedFunction.withMeta} resolves to.
 * Give it to {@link cacheStatus} for an HTTP `Cache-Status` header.
 */
export interface CallMeta<T = unknown> {
  /** What the plain call would have resolved to. */
  readonly value: T;
  /** How the call was answered (never `'error'`: a failed call rejects). */
  readonly status: Exclude<CallStatus, 'error'>;
  /** The age of the value in ms when known: 0 for a value the origin just returned. */
  readonly age: number | undefined;
  /**
   * The value's remaining freshness in ms when known: negative for a stale value, `Infinity` when it
   * was stored without expiry, `undefined` when unknown (an entry written without its header's
   * times, by a function without stale windows, read back by another) or not stored.
   */
  readonly ttl: number | undefined;
  /** Where the value came from. */
  readonly tier: CallTier;
  /**
   * The call went forward to the origin (or waited for a run that did): true for misses, refreshes
   * and bypasses, and for a stale value served because the origin failed or was slow; false for hits
   * and for a stale value served at once while it refreshes in the background.
   */
  readonly forwarded: boolean;
}

/** The TracingChannel every cached call is published on (when it has subscribers). */
export const CALL_CHANNEL = 'cachette:call';
/** The plain channel of invalidations: `f.invalidate()`, `f.clear()`, `cache.clear()`, `cache.invalidateTags()`. */
export const INVALIDATE_CHANNEL = 'cachette:invalidate';
/** The plain channel of circuit-breaker state changes. */
export const BREAKER_CHANNEL = 'cachette:breaker';
/** The plain channel of the in-process tier's coherence events (its watch's state, flushes). */
export const L1_CHANNEL = 'cachette:l1';

/** The `cachette:call` channels. @internal */
export const calls: TracingChannel<CallEvent, CallEvent> = tracingChannel(CALL_CHANNEL);
const invalidations: Channel = channel(INVALIDATE_CHANNEL);
const breakers: Channel = channel(BREAKER_CHANNEL);
const l1Events: Channel = channel(L1_CHANNEL);

/** A message of the `cachette:invalidate` channel. Carries no key, tag or argument. */
export interface InvalidateEvent {
  /**
   * - `'key'`: `f.invalidate(...args)` (one entry);
   * - `'function'`: `f.clear()` (every entry of one function);
   * - `'namespace'`: `cache.clear()`;
   * - `'tags'`: `cache.invalidateTags(tags)`.
   */
  readonly scope: 'key' | 'function' | 'namespace' | 'tags';
  /** The function's name (`'key'` and `'function'` scopes). */
  readonly name?: string;
  /** The cache's namespace, when it has one. */
  readonly namespace: string | undefined;
  /** How many tags (`'tags'` scope). */
  readonly tags?: number;
  /** `{ stale: true }`: made stale rather than gone. */
  readonly stale: boolean;
  /** Whether it was done (`false`: the store refused or could not be reached; the call rejected). */
  readonly ok: boolean;
  /** For `'key'`: whether an entry was there to remove. */
  readonly removed?: boolean;
}

/** A message of the `cachette:breaker` channel: the store's circuit breaker changed state. */
export interface BreakerEvent {
  /** The store's short name (`'redis'`). */
  readonly store: string;
  /** The new state: `'open'` (calls skip the store), `'half-open'` (the cool-down passed: one probe goes to the store), `'closed'` (the probe succeeded). */
  readonly state: 'open' | 'half-open' | 'closed';
  /** The cache's namespace, when it has one. */
  readonly namespace: string | undefined;
  /** Store failures in a row at the change (0 once closed). */
  readonly consecutiveFailures: number;
}

/**
 * A message of the `cachette:l1` channel: the in-process tier's watch changed state, the tier was
 * emptied, or it received the announcement of one changed key. Carries no key.
 */
export interface L1Event {
  /**
   * - `'ready'`: its invalidation channel is up: the tier serves;
   * - `'down'` / `'connecting'`: it is not: the tier is empty and bypassed;
   * - `'flush'`: the store announced that every key may have changed (or the channel was lost): emptied;
   * - `'changed'`: the store announced that one key under the namespace changed: written, deleted,
   *   expired or evicted, by any client, this process included (not the tier's own ttl extensions).
   *   Published after the tier dropped its copy.
   */
  readonly event: 'ready' | 'down' | 'connecting' | 'flush' | 'changed';
  /** The cache's namespace, when it has one. */
  readonly namespace: string | undefined;
  /** For `'changed'`: whether the tier held anything of that key (an entry, a tag record, or a read of it in flight) and dropped it. */
  readonly dropped?: boolean;
}

/** Publish `message` on the invalidation channel; built only when someone listens. @internal */
export function publishInvalidate(make: () => InvalidateEvent): void {
  if (invalidations.hasSubscribers) invalidations.publish(make());
}

/** @internal */
export function publishBreaker(make: () => BreakerEvent): void {
  if (breakers.hasSubscribers) breakers.publish(make());
}

/** @internal */
export function publishL1(make: () => L1Event): void {
  if (l1Events.hasSubscribers) l1Events.publish(make());
}

/** What `answer` returns, or a rejection with what it threw: a call always settles, never throws. */
function settled(answer: () => Promise<unknown>): Promise<unknown> {
  try {
    return answer();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** 16 hex digits of the key's SHA-256. */
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * One call's record, filled in by the engine where each outcome is known (the same places its
 * counters are incremented) and read when the call settles. It is the context object published on
 * `cachette:call`, so everything public on it is what subscribers see.
 * @internal
 */
export class CallRecord implements CallEvent {
  keyHash = '';
  status: CallStatus = 'miss';
  tier: CallTier = 'origin';
  lockWait = false;
  age: number | undefined = undefined;
  ttl: number | undefined = undefined;
  originMs: number | undefined = undefined;
  declare error?: unknown;
  forwarded = true;
  #entry: Entry | undefined;
  #raw: string | Uint8Array | HeldEntry | undefined;
  #run: FlightRun | undefined;
  #expiresAt: number | undefined;

  constructor(readonly name: string) {}

  /**
   * Answered from a stored entry (`raw`: its payload, to read its times when `entry` has none;
   * `expiresAt`: when the tier knows the entry expires in the store, the ttl's source without them).
   */
  served(status: 'hit' | 'stale', tier: 'l1' | 'store', entry: Entry, raw: string | Uint8Array | HeldEntry | undefined, expiresAt?: number): void {
    this.#expiresAt = expiresAt;
    this.status = status;
    this.tier = tier;
    this.forwarded = false;
    this.#entry = entry;
    this.#raw = raw;
  }

  /** Answered by an origin run (this call's or one it joined); `ttlMs`: what its result is stored for, when known. */
  ran(status: 'miss' | 'coalesced' | 'bypass' | 'refresh', run: FlightRun, ttlMs: number | undefined): void {
    this.status = status;
    this.tier = 'origin';
    this.forwarded = true;
    this.#run = run;
    this.age = 0;
    this.ttl = ttlMs === undefined ? undefined : ttlMs === Infinity ? Infinity : ttlMs;
  }

  /**
   * A repeated item of one `many()` call, answered by its first occurrence `first`: the same source,
   * as `status` (a hit when `first` was served, a coalesced miss when it ran).
   */
  sameAs(first: CallRecord, status: CallStatus): void {
    this.status = status;
    this.tier = first.tier;
    this.forwarded = first.forwarded;
    this.#entry = first.#entry;
    this.#raw = first.#raw;
    this.#run = first.#run;
    this.#expiresAt = first.#expiresAt;
    this.age = first.age;
    this.ttl = first.ttl;
  }

  /** The origin run failed or was slow, and a stale entry answered (`staleIfError`, `timeout.soft`). */
  fellBack(entry: Entry): void {
    this.status = 'stale';
    this.tier = 'store';
    this.#entry = entry;
    this.#raw = undefined;
  }

  /** Fill in what is known once the call settled (`now`: the cache's clock). */
  settle(now: number, reader: (raw: string | Uint8Array | HeldEntry) => Entry | undefined): void {
    const run = this.#run;
    if (run !== undefined) {
      this.lockWait = run.lockWaited;
      this.originMs = run.originMs;
      // A miss answered by the value another process's lock holder wrote came from the store.
      if (run.fromStore && this.tier === 'origin') this.tier = 'store';
    }
    let entry = this.#entry;
    if (entry === undefined) return;
    // An entry decoded without its header's times (a function without stale windows): read them now.
    if (entry.createdAt === 0 && this.#raw !== undefined) {
      try {
        entry = reader(this.#raw) ?? entry;
      } catch {
        // it decoded once already; without its times the age stays unknown
      }
    }
    if (entry.createdAt === 0) {
      // A tier hit of an entry without its times: the store's expiry, as the tier read it, is its freshness.
      if (this.#expiresAt !== undefined) this.ttl = this.#expiresAt === Infinity ? Infinity : this.#expiresAt - now;
      return;
    }
    const age = Math.max(0, now - entry.createdAt);
    this.age = age;
    this.ttl = entry.ttlMs === undefined ? Infinity : entry.ttlMs - age;
  }

  /** What `withMeta` resolves to. */
  meta<T>(value: T): CallMeta<T> {
    return { value, status: this.status as CallMeta['status'], age: this.age, ttl: this.ttl, tier: this.tier, forwarded: this.forwarded };
  }
}

/**
 * Answer one call through `answer`, publishing it on `cachette:call` (when `traced`) and filling
 * `record` as it settles. The events follow the TracingChannel protocol (`start`, `end`, then
 * `asyncStart`/`asyncEnd`, with `error` before them on a rejection), but the value is never put on
 * the context. `start` runs bound stores (`AsyncLocalStorage`), so a span opened there is current
 * while the call runs.
 * @internal
 */
export function observeCall(
  record: CallRecord,
  key: string,
  traced: boolean,
  answer: () => Promise<unknown>,
  settle: (record: CallRecord) => void,
): Promise<unknown> {
  if (!traced) {
    // withMeta alone: the record's fields are filled in, nothing is published.
    return settled(answer).then(
      (value) => {
        settle(record);
        return value;
      },
      (error: unknown) => {
        record.status = 'error';
        throw error;
      },
    );
  }
  record.keyHash = hashKey(key);
  return calls.start.runStores(record, () => {
    const promise = settled(answer);
    calls.end.publish(record);
    return promise.then(
      (value) => {
        settle(record);
        calls.asyncStart.publish(record);
        calls.asyncEnd.publish(record);
        return value;
      },
      (error: unknown) => {
        settle(record);
        record.status = 'error';
        record.error = error;
        calls.error.publish(record);
        calls.asyncStart.publish(record);
        calls.asyncEnd.publish(record);
        throw error;
      },
    );
  });
}
