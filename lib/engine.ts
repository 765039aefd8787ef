/**
 * The read-through algorithm for one call: read → decide → run the origin → write; and for the items
 * of `many()`, which share everything after the read (one `getMany`, then each item judged as a
 * single call is) and may answer their misses with one `batch` call.
 *
 * Kept apart from `cached.ts` so the algorithm is not tangled with the callable's generics. It
 * knows the {@link Store} interface, never a concrete store.
 *
 * Rules that hold on every path:
 * - the origin's errors reach the caller unchanged and are never cached;
 * - cache-layer failures never fail a call: they are counted in `stats.errors`, reported to the
 *   logger without values or arguments, and the origin answers;
 * - a cached `null` or `undefined` is a hit.
 * @module
 */
import type { Cache } from './cache.js';
import type { Duration } from './duration.js';
import { MAX_TIMER_MS, MAX_TTL_MS, TAG_RECORD_TTL_MS } from './defaults.js';
import { toMs } from './duration.js';
import { decodeEntry, encodeEntry, heldDecoder, HeldEntry, type Entry } from './entry.js';
import { CacheBatchError, CacheOriginTimeoutError, CachePartialReadError, CacheUnavailableError } from './errors.js';
import { callAs, FlightRun } from './flight.js';
import { currentRecords, joinStamps, judgeStamps, readRecords, tagRecordKey, tagsProblem, type FunctionStamps, type RunScopeLike } from './invalidation.js';
import { refuseAborted, waitFor } from './waiting.js';
import { runLocked, type LockedMiss, type LockSettings } from './locks.js';
import type { FailureKind } from './log.js';
import type { ResolvedCall } from './config/resolve.js';
import type { CacheStats } from './stats.js';
import { publishInvalidate, type CallRecord } from './observe.js';
import type { MaybePromise, Store } from './stores/store.js';
import type { Tier } from './tier.js';
import { check, Invalid, schemaError, type Migrate, type StandardSchema } from './schema.js';

/** Everything the engine needs about one cached function, resolved once by `cached()`. */
export interface FunctionContext {
  readonly origin: (...args: unknown[]) => unknown;
  readonly name: string;
  readonly cache: Cache;
  readonly store: Store;
  /** The function's static TTL in ms (`undefined`: no expiry); unused when `ttlFn` is set. */
  readonly ttlMs: number | undefined;
  readonly ttlFn: ((result: unknown, args: unknown[]) => Duration | undefined) | undefined;
  readonly skipCache: ((result: unknown, args: unknown[]) => boolean) | undefined;
  readonly updateTtlOnHit: boolean;
  readonly waitForWrite: boolean;
  readonly stats: CacheStats;
  /** `staleWhileRevalidate` in ms (0: off). */
  readonly swrMs: number;
  /** `staleIfError` in ms (0: off). */
  readonly staleIfErrorMs: number;
  /** XFetch `beta`, or `undefined` when refresh-ahead is off. */
  readonly refreshBeta: number | undefined;
  /** The function's origin timeouts in ms. */
  readonly softMs: number | undefined;
  readonly hardMs: number | undefined;
  /** The cross-process miss lock (`lock` option), or `undefined` without one. */
  readonly lock?: LockSettings | undefined;
  /** `max(swrMs, staleIfErrorMs)`: how long past its ttl an entry stays in the store. */
  readonly staleWindowMs: number;
  /**
   * Entries need the `c2` envelope and freshness is judged by the engine (stale windows or
   * refresh-ahead); `false` leaves expiry to the store alone.
   */
  readonly extras: boolean;
  /** The `batch` option: answers all the misses of one `many()` call in one call. */
  readonly batch?: ((argsList: unknown[][]) => unknown) | undefined;
  /** The `tags` option as a function of the arguments; `undefined` for an untagged function. */
  readonly tagsOf?: ((args: unknown[]) => unknown) | undefined;
  /** The function's clear generations (its namespace's and its own). */
  readonly stamps: FunctionStamps;
  /** The in-process tier in front of the store (`l1`), when the cache has one that covers this function's keys. */
  readonly tier?: Tier | undefined;
  /** The `schema` option: every value served passes it first; `undefined` (the common case): no check. */
  readonly schema?: StandardSchema | undefined;
  /** The `migrate` option (only with a schema). */
  readonly migrate?: Migrate | undefined;
}


/**
 * Where one run's value comes from instead of calling the origin with the run's arguments: one
 * item of a `batch` call made for several keys.
 */
type Source = () => Promise<unknown>;

/**
 * Answer one call for `key`; `call` is undefined when no call options were passed (the common case).
 * `self` is the caller's `this`, given to the origin if this call runs it.
 */
export function execute(ctx: FunctionContext, key: string, args: unknown[], call: ResolvedCall | undefined, self: unknown): Promise<unknown> {
  const tier = ctx.tier;
  if (call === undefined) {
    if (tier !== undefined && tier.serving) {
      const held = heldValue(ctx, tier, key, args, undefined, self);
      if (held !== NOT_HELD) return Promise.resolve(held);
    }
    return readThrough(ctx, key, args, undefined, self);
  }
  if (call.signal !== undefined) {
    // Aborted before it started: no read, no run, no write, no counter (the call did nothing).
    const refused = refuseAborted(call.signal);
    if (refused !== undefined) return refused;
  }
  if (!reads(call)) return waitFor(ctx, unreadRun(ctx, key, args, call, self, undefined), call, undefined, staleServed);
  if (tier !== undefined && tier.serving) {
    const held = heldValue(ctx, tier, key, args, call, self);
    if (held !== NOT_HELD) return Promise.resolve(held);
  }
  return readThrough(ctx, key, args, call, self);
}

/** {@link heldValue}'s answer when the tier has nothing it may serve for the call: read through the store. */
const NOT_HELD: unique symbol = Symbol('not held');

/**
 * Answer a call from the in-process tier when it holds a fresh entry for `key` written under the
 * current stamps (a tagged function's tag records held too); `NOT_HELD` otherwise: anything stale,
 * cleared or unknown is judged by the store path, which serves stale windows and refreshes. A per-call
 * ttl extends the entry in the store in the background.
 */
function heldValue(ctx: FunctionContext, tier: Tier, key: string, args: unknown[], call: ResolvedCall | undefined, self: unknown): unknown {
  const held = tier.lookup(key);
  if (held === undefined) return NOT_HELD;
  const generations = ctx.stamps.current();
  if (generations === undefined) return NOT_HELD;
  let expected = generations;
  if (ctx.tagsOf !== undefined) {
    const tagKeys = tagKeysFor(ctx, args, false);
    if (tagKeys === null) return NOT_HELD; // reported by the store path
    if (tagKeys.length > 0) {
      const records: string[] = [];
      for (const tagKey of tagKeys) {
        const record = tier.record(tagKey);
        if (record === undefined) return NOT_HELD;
        records.push(record);
      }
      expected = joinStamps(generations, records);
    }
  }
  const entry = held.entry;
  if (entry.stamps !== expected) return NOT_HELD;
  if (judgedByAge(ctx, entry)) {
    const age = ageOf(ctx.cache.clock.now(), entry);
    if (age < 0 || age >= (entry.ttlMs as number)) return NOT_HELD;
    judgeEntry(ctx, key, args, entry, self, expected); // a fresh hit: counted there, maybe refreshed early
  } else {
    ctx.stats.hits++;
  }
  ctx.stats.l1Hits++;
  call?.record?.served('hit', 'l1', entry, held.copies, held.storeExpiresAt);
  const extendMs = extensionOf(ctx, call);
  if (extendMs !== undefined) ctx.cache.extendInTier(key, extendMs);
  if (held.copies === undefined) return entry.value;
  // 'copied': a private copy per hit, as a store hit would decode it (it decoded once already, so
  // this does not fail; if it did, the store path would answer and report it).
  let copy: unknown;
  try {
    const opened = held.copies.open(false);
    if (opened === undefined) return NOT_HELD;
    copy = opened.value;
  } catch {
    return NOT_HELD;
  }
  if (ctx.schema === undefined) return copy;
  // The copy is the stored shape: the schema makes the output of each copy (the output held at fill
  // may hold what no copy reproduces: class instances, functions). It passed at fill; a schema that
  // now refuses it is judged by the store path.
  const output = check(ctx.schema, copy);
  if (output instanceof Promise) return output.then((checked) => (checked instanceof Invalid ? readThrough(ctx, key, args, call, self) : checked));
  return output instanceof Invalid ? NOT_HELD : output;
}

/** The call reads the store first (not a bypass, a forced refresh or `cacheRead: false`). */
function reads(call: ResolvedCall | undefined): boolean {
  return call === undefined || (!call.bypass && !call.refresh && call.read);
}

/** The origin run of a call that does not read the store, counted as a bypass, a refresh or a miss. */
function unreadRun(ctx: FunctionContext, key: string, args: unknown[], call: ResolvedCall, self: unknown, source: Source | undefined): FlightRun {
  if (call.bypass) {
    ctx.stats.bypasses++;
    // A pure bypass is private to its caller (not a flight others join); with cacheWrite: true it
    // is an ordinary run.
    const run = call.write ? startRun(ctx, key, args, call, self, source) : privateRun(ctx, args, self, source);
    call.record?.ran('bypass', run, storedTtl(ctx, call));
    return run;
  }
  if (call.refresh) ctx.stats.refreshes++;
  else ctx.stats.misses++;
  const run = startRun(ctx, key, args, call, self, source);
  call.record?.ran(call.refresh ? 'refresh' : 'miss', run, storedTtl(ctx, call));
  return run;
}

/** How long a run's result is stored for, when known before it runs (for call records): `undefined` when not stored or computed from the result. */
function storedTtl(ctx: FunctionContext, call: ResolvedCall | undefined): number | undefined {
  if (call !== undefined && !call.write) return undefined;
  const ttlMs = call?.ttlMs ?? (ctx.ttlFn === undefined ? (ctx.ttlMs ?? Infinity) : undefined);
  return ttlMs === 0 ? undefined : ttlMs;
}

/**
 * Note a served entry on the call's record: a hit, or stale when judging it counted one (`staleBefore`:
 * the counter before the synchronous judgement, so the difference is this call's).
 */
function noteServed(ctx: FunctionContext, record: CallRecord, staleBefore: number, entry: Entry, raw: Read): void {
  record.served(ctx.stats.stale !== staleBefore ? 'stale' : 'hit', 'store', entry, raw);
}

async function readThrough(ctx: FunctionContext, key: string, args: unknown[], call: ResolvedCall | undefined, self: unknown): Promise<unknown> {
  // The read is inlined (not a helper) to keep one async frame on the hit path.
  const store = ctx.store;
  const extendMs = extensionOf(ctx, call);
  let raw: Read;
  // The stamps an entry must carry to be served (and that a run started here writes with); a tagged
  // function's include its tag records, read below.
  let expected = ctx.tagsOf === undefined ? ctx.stamps.current() : undefined;
  if (store.isAvailable?.() === false) {
    ctx.stats.skipped++; // an open circuit breaker: straight to the origin, no rejected read
  } else if (ctx.tier !== undefined && ctx.tier.state === 'ready') {
    return readToTier(ctx, ctx.tier, key, args, call, self, extendMs);
  } else if (expected !== undefined && ctx.tagsOf === undefined) {
    try {
      const reading = readEntry(ctx, key, extendMs);
      // A synchronous answer (the memory store's) is used as it is: no await, no extra microtask.
      raw = reading === undefined || typeof reading === 'string' || reading instanceof HeldEntry ? reading : await reading;
    } catch (error) {
      fail(ctx, 'read', error, 'cachette: cache read failed; calling the origin');
    }
    // This process's own clear() may have landed during the read.
    expected = ctx.stamps.current();
  } else {
    const read = await readStamped(ctx, key, args, extendMs);
    raw = read.raw;
    expected = read.expected;
  }
  const staleBefore = ctx.stats.stale;
  const judging = judge(ctx, key, args, raw, self, expected);
  return answerJudged(ctx, key, args, call, self, judging instanceof Promise ? await judging : judging, raw, expected, staleBefore);
}

/** What the payload read for `key` is worth (see {@link judgeRead}); checked by the function's `schema` first when it has one. */
function judge(ctx: FunctionContext, key: string, args: unknown[], raw: Read, self: unknown, expected: string | undefined): MaybePromise<Entry | StaleFallback | undefined> {
  if (raw === undefined) return undefined;
  return ctx.schema === undefined ? judgeRead(ctx, key, args, raw, self, expected) : judgeChecked(ctx, key, args, raw, self, expected);
}

/**
 * Answer a call from what its read was judged to be worth: the entry's value (noted on the call's
 * record, `staleBefore` being the stale counter before the judgement), or a miss with its stale fallback.
 */
function answerJudged(
  ctx: FunctionContext,
  key: string,
  args: unknown[],
  call: ResolvedCall | undefined,
  self: unknown,
  judged: Entry | StaleFallback | undefined,
  raw: Read,
  expected: string | undefined,
  staleBefore: number,
): unknown {
  if (judged === undefined) return missWithFallback(ctx, key, args, call, undefined, self, undefined, expected);
  if (judged instanceof StaleFallback) return missWithFallback(ctx, key, args, call, judged.entry, self, undefined, expected);
  if (call?.record !== undefined) noteServed(ctx, call.record, staleBefore, judged, raw);
  return judged.value;
}

/**
 * The TTL a call's read sets on a hit (sliding TTL), in ms, or `undefined` when it sets none: no
 * per-call `ttl`, a per-call ttl of 0 (the entry is left as it is), or `updateTtlOnHit` off. With
 * stale windows the entry lives ttl + window in the store, so an extension keeps the window.
 */
function extensionOf(ctx: FunctionContext, call: ResolvedCall | undefined): number | undefined {
  if (call === undefined || call.ttlMs === undefined || call.ttlMs === 0 || !ctx.updateTtlOnHit) return undefined;
  return call.ttlMs + ctx.staleWindowMs;
}

/**
 * The store read of a function whose cache has a serving tier: the entry with its remaining TTL (and
 * a tagged function's records), kept in the tier when it is served and no change of it arrived while
 * it was read. A per-call ttl is not applied by the read (`GETEX` would announce a change to this
 * process's own watch, and void the fill): it is sent afterwards, like a tier hit's.
 */
async function readToTier(ctx: FunctionContext, tier: Tier, key: string, args: unknown[], call: ResolvedCall | undefined, self: unknown, extendMs: number | undefined): Promise<unknown> {
  // A clear generation was announced as changed: judge by the new one, once re-read.
  if (ctx.cache.reloading !== undefined) await ctx.cache.reloading;
  const fill = tier.begin(key);
  let read: StampedRead;
  try {
    read = await readStamped(ctx, key, args, undefined, tier);
  } catch (error) {
    if (fill !== undefined) tier.end(fill);
    throw error;
  }
  const { raw, expected } = read;
  const staleBefore = ctx.stats.stale;
  let judged: Entry | StaleFallback | undefined;
  try {
    // With a schema the tier keeps the checked entry: its value is the schema's output, checked once here.
    const judging = judge(ctx, key, args, raw, self, expected);
    judged = judging instanceof Promise ? await judging : judging;
  } finally {
    if (fill !== undefined) {
      // A tier stands in front of a Redis store: what it read is a payload, never a held entry.
      if (judged !== undefined && !(judged instanceof StaleFallback) && raw !== undefined) tier.commit(fill, judged, raw as string | Uint8Array, read.remainingMs);
      else tier.end(fill);
    }
  }
  if (raw !== undefined && extendMs !== undefined) ctx.cache.extendInTier(key, extendMs);
  return answerJudged(ctx, key, args, call, self, judged, raw, expected, staleBefore);
}

/** What {@link readStamped} read. */
interface StampedRead {
  readonly raw: Read;
  /** The stamps an entry must carry to be served; `undefined`: none may be. */
  readonly expected: string | undefined;
  /** The entry's remaining TTL in the store (tier reads only; `undefined`: no expiry). */
  readonly remainingMs?: number | undefined;
}

/** What a read answers: a payload, a payload decoded beside the store's copy (`getDerived`), or nothing. */
type Read = string | Uint8Array | HeldEntry | undefined;

/**
 * Read `key`: with `getAndExpire` when a per-call ttl extends a hit (sliding TTL), else with
 * `getDerived` when the store keeps decoded entries, else with `get`.
 */
function readEntry(ctx: FunctionContext, key: string, extendMs: number | undefined): MaybePromise<Read> {
  const store = ctx.store;
  if (extendMs !== undefined && store.getAndExpire !== undefined) return store.getAndExpire(key, extendMs);
  return store.getDerived === undefined ? store.get(key) : store.getDerived(key, heldDecoder(ctx.cache.codec));
}

/**
 * The read of a tagged function, or of one whose clear generations are not loaded yet: (once) the
 * generations, then the entry and its tag records, sent together (one round trip). Never rejects.
 * `expected` is `undefined` when some record is missing or could not be read: no entry is then
 * served, and a run computes its own stamps.
 */
async function readStamped(ctx: FunctionContext, key: string, args: unknown[], extendMs: number | undefined, tier?: Tier): Promise<StampedRead> {
  const store = ctx.store;
  const tagKeys = ctx.tagsOf === undefined ? undefined : tagKeysFor(ctx, args);
  if (tagKeys === null) return { raw: undefined, expected: undefined };
  let raw: Read;
  let remainingMs: number | undefined;
  let values: Array<string | undefined> | undefined;
  // With a tier, the tag records read are held too (begun before they are read, like entries).
  const fills = tier === undefined || tagKeys === undefined ? undefined : tagKeys.map((tagKey) => tier.begin(tagKey));
  try {
    // The generations first (once per process and function): one operation, so that a half-open
    // breaker's single probe is this read and not two at once.
    if (ctx.stamps.current() === undefined) await ctx.stamps.load();
    const reading: MaybePromise<Read> =
      tier === undefined ? readEntry(ctx, key, extendMs) : Promise.resolve((store.getWithExpiry as NonNullable<Store['getWithExpiry']>).call(store, key)).then(([payload, ms]) => {
        remainingMs = ms;
        return payload;
      });
    if (tagKeys === undefined || tagKeys.length === 0) {
      raw = await reading;
    } else {
      // Sent in the same tick: one round trip for the entry and its tag records.
      const records = readRecords(store, tagKeys);
      try {
        [raw, values] = await Promise.all([reading, records]);
      } catch (error) {
        // Settle the other one: nothing may reject unhandled.
        Promise.resolve(reading).catch(noop);
        records.catch(noop);
        throw error;
      }
      if (fills !== undefined && tier !== undefined) {
        fills.forEach((fill, i) => {
          const value = (values as Array<string | undefined>)[i];
          if (fill === undefined) return;
          if (value === undefined) tier.end(fill);
          else tier.commitRecord(fill, value, RECORD_HOLD_MS);
        });
      }
      // A missing record (a new tag, or one lost) means a miss: create it now, before the origin
      // runs, from what was just read (no second read of the others).
      if (values.includes(undefined)) values = await currentRecords(store, tagKeys, TAG_RECORD_TTL_MS, values);
    }
  } catch (error) {
    fail(ctx, 'read', error, 'cachette: cache read failed; calling the origin');
    return { raw: undefined, expected: undefined };
  } finally {
    // Fills not committed above (a failed read, no tags read) end here; ending twice is harmless only
    // when counted once, so committed ones are skipped.
    if (fills !== undefined && tier !== undefined && values === undefined) for (const fill of fills) if (fill !== undefined) tier.end(fill);
  }
  const generations = ctx.stamps.current();
  if (generations === undefined || (values !== undefined && values.includes(undefined))) return { raw, expected: undefined, remainingMs };
  return { raw, expected: values === undefined ? generations : joinStamps(generations, values as string[]), remainingMs };
}

/** How long the tier holds a tag record it read (records live for weeks in the store; a re-read is one MGET). */
const RECORD_HOLD_MS = 60_000;

/**
 * The record keys of the tags of a call with `args`: `null` (after reporting it, unless `report` is
 * off) when the `tags` function threw or returned something that is not a list of tags: the call is
 * then neither served from nor written to the cache.
 */
function tagKeysFor(ctx: FunctionContext, args: unknown[], report = true): string[] | null {
  let tags: unknown;
  try {
    tags = (ctx.tagsOf as (args: unknown[]) => unknown)(args);
  } catch (error) {
    if (report) fail(ctx, 'tags', error, `cachette: ${ctx.name}: the tags function threw; the call was not cached`);
    return null;
  }
  const problem = tagsProblem(tags);
  if (problem !== undefined) {
    if (report) fail(ctx, 'tags', new TypeError(problem), `cachette: ${ctx.name}: invalid tags; the call was not cached`);
    return null;
  }
  const namespace = ctx.cache.namespace;
  return (tags as string[]).map((tag) => tagRecordKey(namespace, tag));
}

/**
 * The stamps a run started now writes with: its generations and the current values of its tag
 * records (created when missing). Synchronous when nothing has to be read (an untagged function whose
 * generations are loaded). `undefined` (reported) when they cannot be had: the run's result is then
 * returned but not written.
 */
function stampsNow(ctx: FunctionContext, args: unknown[]): string | undefined | Promise<string | undefined> {
  const generations = ctx.stamps.current();
  if (generations !== undefined && ctx.tagsOf === undefined) return generations;
  const tagKeys = ctx.tagsOf === undefined ? [] : tagKeysFor(ctx, args);
  if (tagKeys === null) return undefined;
  return (async () => {
    try {
      const [, values] = await Promise.all([generations === undefined ? ctx.stamps.load() : undefined, tagKeys.length === 0 ? [] : currentRecords(ctx.store, tagKeys, TAG_RECORD_TTL_MS)]);
      const current = ctx.stamps.current();
      if (current === undefined) return undefined;
      return joinStamps(current, values);
    } catch (error) {
      // Counted as the write it prevents: a call whose store fails counts one read and one write failure.
      fail(ctx, 'write', error, 'cachette: cache write failed (its invalidation records could not be read)');
      return undefined;
    }
  })();
}

/**
 * Answer the calls for `keys` (one per item of `argsList`, same order) as single calls would be,
 * with one read for all of them (`getMany`) and, when the function has a `batch`, one origin call for
 * all the misses that no run in flight answers already.
 *
 * Items with the same key are read once and run once: the first is judged like a single call, the
 * others count as hits when it was served from the store and as coalesced misses otherwise.
 */
export async function executeMany(
  ctx: FunctionContext,
  keys: readonly string[],
  argsList: readonly unknown[][],
  call: ResolvedCall | undefined,
  self: unknown,
  itemCalls?: readonly ResolvedCall[],
  eachItem?: (results: readonly unknown[]) => void,
): Promise<unknown[]> {
  // Per item, when the items are recorded (traced): the call options with the item's own record.
  const callOf = itemCalls === undefined ? (): ResolvedCall | undefined => call : (i: number): ResolvedCall | undefined => itemCalls[i];
  if (call?.signal !== undefined) {
    const refused = refuseAborted(call.signal);
    if (refused !== undefined) return refused as Promise<never>;
  }
  const firstOf = new Map<string, number>();
  const unique: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (firstOf.has(keys[i] as string)) continue;
    firstOf.set(keys[i] as string, unique.length);
    unique.push(i);
  }
  const answers: unknown[] = new Array(unique.length);
  const served: boolean[] = new Array(unique.length).fill(false);
  // The misses still to run: position in `unique`, and the stale fallback of each.
  const toRun: number[] = [];
  const fallbacks: Array<Entry | undefined> = [];
  const reading = reads(call);
  let expectedList: Array<string | undefined> = [];
  if (reading) {
    // Items the in-process tier holds are answered from it; the others are read from the store.
    let rest: number[] = unique.map((_, u) => u);
    const tier = ctx.tier;
    if (tier !== undefined && tier.serving) {
      rest = [];
      for (let u = 0; u < unique.length; u++) {
        const i = unique[u] as number;
        const held = heldValue(ctx, tier, keys[i] as string, argsList[i] as unknown[], callOf(i), self);
        if (held === NOT_HELD) {
          rest.push(u);
        } else {
          answers[u] = held;
          served[u] = true;
        }
      }
    }
    const failures = { read: false };
    const [raws, stamped] =
      rest.length === 0
        ? [[], { expected: [] }]
        : await Promise.all([readMany(ctx, rest.map((u) => keys[unique[u] as number] as string), call, failures), expectedMany(ctx, rest.map((u) => argsList[unique[u] as number] as unknown[]))]);
    // A failed read of the records makes every item a miss: counted per item, as the reads it made
    // useless, unless those reads failed too (already counted).
    if (stamped.error !== undefined && !failures.read) failMany(ctx, rest.length, stamped.error);
    expectedList = new Array(unique.length);
    // With a schema every item is checked (concurrently, when the schema is async) before any is judged further.
    const checked =
      ctx.schema === undefined
        ? undefined
        : await Promise.all(
            rest.map((u, r) => {
              const raw = raws[r];
              const i = unique[u] as number;
              return raw === undefined ? undefined : judgeChecked(ctx, keys[i] as string, argsList[i] as unknown[], raw, self, stamped.expected[r]);
            }),
          );
    for (let r = 0; r < rest.length; r++) {
      const u = rest[r] as number;
      const i = unique[u] as number;
      const raw = raws[r];
      const expected = stamped.expected[r];
      expectedList[u] = expected;
      const record = callOf(i)?.record;
      const staleBefore = ctx.stats.stale;
      const judged = checked !== undefined ? checked[r] : raw === undefined ? undefined : judgeRead(ctx, keys[i] as string, argsList[i] as unknown[], raw, self, expected);
      if (judged !== undefined && !(judged instanceof StaleFallback)) {
        answers[u] = judged.value;
        served[u] = true;
        if (record !== undefined) noteServed(ctx, record, staleBefore, judged, raw);
        continue;
      }
      const fallback = judged?.entry;
      if (ctx.batch !== undefined && joinableRun(ctx, keys[i] as string) === undefined) {
        toRun.push(u);
        fallbacks.push(fallback);
      } else {
        // No batch, or a run in flight to join: exactly what a single call's miss does.
        answers[u] = missWithFallback(ctx, keys[i] as string, argsList[i] as unknown[], callOf(i), fallback, self, undefined, expected);
      }
    }
  } else {
    for (let u = 0; u < unique.length; u++) toRun.push(u);
  }
  const sources = ctx.batch !== undefined && toRun.length > 0 ? batchSources(ctx, toRun.map((u) => argsList[unique[u] as number] as unknown[]), self) : undefined;
  for (let r = 0; r < toRun.length; r++) {
    const u = toRun[r] as number;
    const i = unique[u] as number;
    const key = keys[i] as string;
    const args = argsList[i] as unknown[];
    const source = sources?.[r];
    answers[u] = reading
      ? missWithFallback(ctx, key, args, callOf(i), fallbacks[r], self, source, expectedList[u])
      : waitFor(ctx, unreadRun(ctx, key, args, callOf(i) as ResolvedCall, self, source), call, undefined, staleServed);
  }
  const results: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const u = firstOf.get(keys[i] as string) as number;
    if (unique[u] !== i) {
      const status = countDuplicate(ctx, call, reading && served[u] === true);
      const first = callOf(unique[u] as number)?.record;
      if (first !== undefined) callOf(i)?.record?.sameAs(first, status);
    }
    results[i] = answers[u];
  }
  eachItem?.(results);
  return Promise.all(results);
}

/** A repeated item of one `many()` call, answered by its first occurrence: counted as that kind of call. */
function countDuplicate(ctx: FunctionContext, call: ResolvedCall | undefined, served: boolean): 'hit' | 'bypass' | 'refresh' | 'coalesced' {
  if (served) {
    ctx.stats.hits++;
    return 'hit';
  }
  if (call?.bypass === true) {
    ctx.stats.bypasses++;
    return 'bypass';
  }
  if (call?.refresh === true) {
    ctx.stats.refreshes++;
    return 'refresh';
  }
  ctx.stats.misses++;
  ctx.stats.coalesced++;
  return 'coalesced';
}

/**
 * The payloads of `keys` in one round trip, `undefined` for each miss; never rejects (a failed read
 * is counted per item, reported once, and every item is a miss). With a per-call `ttl` (sliding TTL)
 * each key is read with `getAndExpire`: the commands are sent in the same tick, so node-redis writes
 * them to the socket together (still one round trip, one command per key). A store without
 * `getMany` is read with `get` per key, in parallel.
 */
async function readMany(ctx: FunctionContext, keys: string[], call: ResolvedCall | undefined, failures: { read: boolean }): Promise<ReadonlyArray<string | Uint8Array | undefined>> {
  const store = ctx.store;
  if (store.isAvailable?.() === false) {
    ctx.stats.skipped += keys.length; // an open circuit breaker: straight to the origin, no rejected read
    return [];
  }
  const extendMs = extensionOf(ctx, call);
  const extend = extendMs === undefined ? undefined : store.getAndExpire?.bind(store);
  if (extend === undefined && store.getMany !== undefined) {
    try {
      const raws = await store.getMany(keys);
      if (raws.length === keys.length) return raws;
      throw new RangeError(`getMany answered ${raws.length} payloads for ${keys.length} keys`);
    } catch (error) {
      // Some keys read (a cluster with one master down): those still hit, the failed ones are misses.
      if (error instanceof CachePartialReadError && error.payloads.length === keys.length) {
        failMany(ctx, error.failed, error.cause instanceof CacheUnavailableError ? error.cause : error);
        return error.payloads;
      }
      failures.read = true;
      failMany(ctx, keys.length, error);
      return [];
    }
  }
  return Promise.all(
    keys.map(async (key) => {
      try {
        return await (extend === undefined ? store.get(key) : extend(key, extendMs as number));
      } catch (error) {
        failures.read = true;
        failMany(ctx, 1, error);
        return undefined;
      }
    }),
  );
}

/**
 * The stamps each item of a `many()` must carry (see {@link readStamped}), read together with the
 * entries: the generations once, and every item's tag records in one `getMany`. Never rejects: a
 * failure (returned, for the caller to count) leaves every item without stamps (no entry served;
 * each run reads its own).
 */
async function expectedMany(ctx: FunctionContext, argsList: unknown[][]): Promise<{ expected: Array<string | undefined>; error?: unknown }> {
  if (ctx.store.isAvailable?.() === false) return { expected: [] };
  const generations = ctx.stamps.current();
  if (generations !== undefined && ctx.tagsOf === undefined) return { expected: argsList.map(() => generations) };
  const tagKeys = ctx.tagsOf === undefined ? undefined : argsList.map((args) => tagKeysFor(ctx, args));
  const unique = tagKeys === undefined ? [] : [...new Set(tagKeys.flatMap((keys) => keys ?? []))];
  let values: Array<string | undefined>;
  try {
    [, values] = await Promise.all([generations === undefined ? ctx.stamps.load() : undefined, readRecords(ctx.store, unique)]);
  } catch (error) {
    return { expected: [], error };
  }
  const current = ctx.stamps.current();
  if (current === undefined) return { expected: [] };
  if (tagKeys === undefined) return { expected: argsList.map(() => current) };
  const byKey = new Map(unique.map((key, i) => [key, values[i]]));
  const expected = tagKeys.map((keys) => {
    if (keys === null) return undefined;
    const records = keys.map((key) => byKey.get(key));
    return records.includes(undefined) ? undefined : joinStamps(current, records as string[]);
  });
  return { expected };
}

/** A read that failed for `count` items: counted per item (like `count` single calls), reported once. */
function failMany(ctx: FunctionContext, count: number, error: unknown): void {
  fail(ctx, 'read', error, 'cachette: cache read failed; calling the origin');
  if (error instanceof CacheUnavailableError) ctx.stats.skipped += count - 1;
  else ctx.stats.errors += count - 1;
}

/**
 * Call the function's `batch` once for `argsList` (with the caller's `this`) and give each item its
 * own {@link Source}. An answer that is not an array of exactly one result per argument list rejects
 * every item with a {@link CacheBatchError}; a throw or rejection rejects every item with the batch's
 * own error. Either way no item gets a value, so nothing of that answer is written.
 */
function batchSources(ctx: FunctionContext, argsList: unknown[][], self: unknown): Source[] {
  let answered: Promise<unknown[]>;
  try {
    const answer = Reflect.apply(ctx.batch as (argsList: unknown[][]) => unknown, self, [argsList]);
    answered = Promise.resolve(answer).then((results) => checkBatch(ctx, results, argsList.length));
  } catch (error) {
    answered = Promise.reject(error);
  }
  // Every item normally takes this answer; one whose lock holder in another process answered first
  // never does, and its rejection must not go unhandled.
  answered.catch(noop);
  return argsList.map((_, i) => () => answered.then((results) => results[i]));
}

function checkBatch(ctx: FunctionContext, results: unknown, expected: number): unknown[] {
  if (!Array.isArray(results)) {
    throw new CacheBatchError(`cachette: ${ctx.name}: batch must resolve to an array of ${expected} results, it resolved to ${results === null ? 'null' : typeof results}`, ctx.name);
  }
  if (results.length !== expected) {
    throw new CacheBatchError(`cachette: ${ctx.name}: batch resolved to ${results.length} results for ${expected} argument lists; nothing was cached`, ctx.name);
  }
  return results;
}

/** A stored entry too old to serve but within `staleIfError`: the answer if the origin fails. */
class StaleFallback {
  constructor(readonly entry: Entry) {}
}

/**
 * What the payload read for `key` is worth, shared by single calls and each item of `many()`: the
 * entry to serve (counted as a hit or stale, maybe starting a background refresh), a
 * {@link StaleFallback} for a miss whose origin may fail, or `undefined` for a plain miss
 * (undecodable entries are reported here).
 */
function judgeRead(ctx: FunctionContext, key: string, args: unknown[], raw: Exclude<Read, undefined>, self: unknown, expected: string | undefined): Entry | StaleFallback | undefined {
  // Functions without stale windows or refresh-ahead need only the value: skip parsing the header's numbers.
  const entry = decodeRead(ctx, raw, ctx.extras);
  if (entry === undefined) return undefined;
  return judgeDecoded(ctx, key, args, entry, self, expected);
}

/** Decode what a read answered: `undefined` (a miss) when it is not an entry or cannot be decoded (reported). */
function decodeRead(ctx: FunctionContext, raw: Exclude<Read, undefined>, meta: boolean): Entry | undefined {
  try {
    return raw instanceof HeldEntry ? raw.open(meta) : decodeEntry(ctx.cache.codec, raw, meta);
  } catch (error) {
    fail(ctx, 'decode', error, 'cachette: a stored entry could not be decoded; treating it as a miss');
    return undefined;
  }
}

/**
 * {@link judgeRead} for a function with a `schema`: the entry's value passes the schema before the
 * entry is judged, so whatever is served (a hit, a stale value, a stale fallback, a tier fill) is the
 * schema's output. An entry that fails it is migrated (`migrate`) or a miss. Entries no stamps allow
 * are misses without a check. Synchronous when the schema is and nothing is migrated.
 */
function judgeChecked(ctx: FunctionContext, key: string, args: unknown[], raw: Exclude<Read, undefined>, self: unknown, expected: string | undefined): MaybePromise<Entry | StaleFallback | undefined> {
  // A migration writes the entry back with its own header: the numbers are needed then.
  const entry = decodeRead(ctx, raw, ctx.extras || ctx.migrate !== undefined);
  if (entry === undefined || expected === undefined) return undefined;
  if (entry.stamps !== expected && judgeStamps(entry.stamps, expected) === 'gone') return undefined;
  const valid = checkEntry(ctx, key, entry);
  if (valid instanceof Promise) return valid.then((checked) => (checked === undefined ? undefined : judgeDecoded(ctx, key, args, checked, self, expected)));
  return valid === undefined ? undefined : judgeDecoded(ctx, key, args, valid, self, expected);
}

/** `entry` with the schema's output as its value, or `undefined` when it failed (counted, reported, maybe migrated). */
function checkEntry(ctx: FunctionContext, key: string, entry: Entry): MaybePromise<Entry | undefined> {
  const output = check(ctx.schema as StandardSchema, entry.value);
  if (output instanceof Promise) return output.then((checked) => checkedEntry(ctx, key, entry, checked));
  return checkedEntry(ctx, key, entry, output);
}

function checkedEntry(ctx: FunctionContext, key: string, entry: Entry, output: unknown): MaybePromise<Entry | undefined> {
  if (!(output instanceof Invalid)) return output === entry.value ? entry : { ...entry, value: output };
  ctx.stats.invalid++;
  if (ctx.migrate === undefined) {
    ctx.cache.report({ kind: 'schema', fn: ctx.name, store: ctx.store.name, err: schemaError(ctx.name, 'a cached value', output) }, 'cachette: a cached value failed the schema; treating it as a miss');
    return undefined;
  }
  return migrateEntry(ctx, key, entry, output);
}

/**
 * Turn an entry that failed the schema into the new shape with `migrate`: the result passes the
 * schema, is served (its entry keeps the old one's times, so it is judged as the old one would be)
 * and is written back for its remaining TTL. A throw, or a result that fails too: a miss (reported).
 */
async function migrateEntry(ctx: FunctionContext, key: string, entry: Entry, invalid: Invalid): Promise<Entry | undefined> {
  let migrated: unknown;
  try {
    migrated = await (ctx.migrate as Migrate)(entry.value, { paths: invalid.paths, createdAt: entry.createdAt });
  } catch (error) {
    ctx.cache.report({ kind: 'schema', fn: ctx.name, store: ctx.store.name, err: schemaError(ctx.name, 'a cached value', invalid) }, `cachette: migrate threw (${describeThrown(error)}); treating the entry as a miss`);
    return undefined;
  }
  const output = await check(ctx.schema as StandardSchema, migrated);
  if (output instanceof Invalid) {
    ctx.cache.report({ kind: 'schema', fn: ctx.name, store: ctx.store.name, err: schemaError(ctx.name, 'the migrated value', output) }, 'cachette: a migrated value failed the schema; treating the entry as a miss');
    return undefined;
  }
  ctx.cache.report({ kind: 'schema', fn: ctx.name, store: ctx.store.name, err: schemaError(ctx.name, 'a cached value', invalid) }, 'cachette: a cached value failed the schema; migrated it and wrote it back');
  ctx.cache.track(writeBack(ctx, key, entry, migrated));
  return { ...entry, value: output };
}

/**
 * Write a migrated value over the entry it replaces, with the same header (created at, ttl, stale
 * window, stamps), for what is left of its time in the store: `migrate` keeps the entry's lifetime.
 * Skipped when a run for the key is in flight (its value is newer) or the entry is out of time.
 */
async function writeBack(ctx: FunctionContext, key: string, entry: Entry, value: unknown): Promise<void> {
  if (ctx.cache.flights.get(key) !== undefined || entry.stamps === undefined) return;
  if (ctx.store.isAvailable?.() === false) {
    ctx.stats.skipped++;
    return;
  }
  const now = ctx.cache.clock.now();
  const staleMs = entry.staleMs ?? 0;
  const remainingMs = entry.ttlMs === undefined ? undefined : Math.ceil(entry.createdAt + entry.ttlMs + staleMs - now);
  if (remainingMs !== undefined && remainingMs <= 0) return;
  const extras = entry.staleMs === undefined ? undefined : { staleMs, computeMs: entry.computeMs ?? 0 };
  let payload;
  try {
    payload = encodeEntry(ctx.cache.codec, value, entry.createdAt, entry.ttlMs, extras, entry.stamps);
  } catch (error) {
    fail(ctx, 'encode', error, `cachette: ${ctx.name}: the migrated value could not be serialized; it was returned but not cached`);
    return;
  }
  ctx.tier?.changed(key);
  try {
    await ctx.store.set(key, payload, remainingMs);
  } catch (error) {
    fail(ctx, 'write', error, 'cachette: cache write failed');
  }
}

/** A thrown thing, named by its type only (its message may quote the value). */
function describeThrown(error: unknown): string {
  return error instanceof Error ? error.name : error === null ? 'null' : typeof error;
}

/** The part of {@link judgeRead} after the decode: stamps, then age. */
function judgeDecoded(ctx: FunctionContext, key: string, args: unknown[], entry: Entry, self: unknown, expected: string | undefined): Entry | StaleFallback | undefined {
  // Untagged and not cleared since it was written: the stamps are equal strings.
  if (entry.stamps !== expected || expected === undefined) {
    const verdict = expected === undefined ? 'gone' : judgeStamps(entry.stamps, expected);
    if (verdict === 'gone') return undefined;
    if (verdict === 'stale') return judgeExpired(ctx, key, args, entry, self, expected as string);
  }
  if (!judgedByAge(ctx, entry)) {
    ctx.stats.hits++;
    return entry;
  }
  const fallback = judgeEntry(ctx, key, args, entry, self, expected as string);
  if (fallback === undefined) return entry;
  return fallback === null ? undefined : new StaleFallback(fallback);
}

/**
 * Decide what a stored entry is worth now (only for functions with stale windows or refresh-ahead):
 * - fresh → count a hit (maybe start an early refresh) and return `undefined`: serve it;
 * - within `staleWhileRevalidate` → count it stale, start a background refresh, return `undefined`;
 * - within `staleIfError` → return it as the fallback for a failing origin;
 * - older → `null`: a plain miss.
 */
function judgeEntry(ctx: FunctionContext, key: string, args: unknown[], entry: Entry, self: unknown, stamps: string): Entry | undefined | null {
  const ttlMs = entry.ttlMs as number;
  let age = ageOf(ctx.cache.clock.now(), entry);
  if (age < 0) {
    fail(ctx, 'clock', new RangeError('a stored entry was created in the future'), 'cachette: an entry was created ahead of this clock (are the clocks in sync?); treating it as expired');
    age = ttlMs;
  }
  if (age < ttlMs) {
    ctx.stats.hits++;
    if (ctx.refreshBeta !== undefined && refreshEarly(ctx.refreshBeta, entry.computeMs ?? 0, ttlMs - age)) {
      if (refreshInBackground(ctx, key, args, self, stamps)) ctx.stats.earlyRefreshes++;
    }
    return undefined;
  }
  // The window an entry can be judged by is the smaller of the function's and the one it was stored with.
  const storedWindow = entry.staleMs ?? 0;
  if (age < ttlMs + Math.min(ctx.swrMs, storedWindow)) {
    ctx.stats.stale++;
    refreshInBackground(ctx, key, args, self, stamps);
    return undefined;
  }
  return age < ttlMs + Math.min(ctx.staleIfErrorMs, storedWindow) ? entry : null;
}

/**
 * An entry expired by `{ stale: true }` (a soft token of one of its records changed): served as a
 * stale entry past its ttl would be, with a background refresh, within the function's
 * `staleWhileRevalidate`; kept as the fallback of a failing origin within `staleIfError`; a miss
 * otherwise, and always once it is past its stale window.
 */
function judgeExpired(ctx: FunctionContext, key: string, args: unknown[], entry: Entry, self: unknown, stamps: string): Entry | StaleFallback | undefined {
  if (entry.ttlMs !== undefined && ctx.extras) {
    const age = ageOf(ctx.cache.clock.now(), entry);
    const window = entry.ttlMs + Math.min(Math.max(ctx.swrMs, ctx.staleIfErrorMs), entry.staleMs ?? 0);
    if (age < 0 || age >= window) return undefined;
  }
  if (ctx.swrMs > 0) {
    ctx.stats.stale++;
    refreshInBackground(ctx, key, args, self, stamps);
    return entry;
  }
  return ctx.staleIfErrorMs > 0 ? new StaleFallback(entry) : undefined;
}

/**
 * How far ahead of this process's clock an entry's `createdAt` may be (clock skew between writers)
 * and still count as just written.
 */
const CLOCK_SKEW_MS = 1000;

/**
 * The age of `entry` at `now`, in ms: 0 for a `createdAt` up to {@link CLOCK_SKEW_MS} ahead, and -1
 * for one further ahead, whose timestamp cannot be trusted (the caller treats the entry as expired,
 * so it is never fresher than its ttl from the moment it is read).
 */
/**
 * Whether `entry`'s freshness is judged by its age (createdAt + ttl) rather than left to the store's
 * TTL: only entries with a ttl, and only when this function has stale windows or refresh-ahead, or the
 * entry was stored with a stale window (another deploy's c2 entry: past its own ttl it is fresh for
 * nobody). The common case (neither) is a hit as soon as the store has it.
 */
function judgedByAge(ctx: FunctionContext, entry: Entry): boolean {
  return entry.ttlMs !== undefined && (ctx.extras || !!entry.staleMs);
}

function ageOf(now: number, entry: Entry): number {
  const age = now - entry.createdAt;
  if (age >= 0) return age;
  return age >= -CLOCK_SKEW_MS ? 0 : -1;
}

/**
 * XFetch (Vattani et al.): refresh when `computeMs · beta · −ln(U)` reaches the time left, with U
 * uniform in (0, 1]. The chance rises as expiry nears and with slower origins.
 */
function refreshEarly(beta: number, computeMs: number, remainingMs: number): boolean {
  if (computeMs <= 0) return false;
  return computeMs * beta * -Math.log(1 - Math.random()) >= remainingMs;
}

/** Start a background refresh of `key` unless a run is already in flight. Returns whether one started. */
function refreshInBackground(ctx: FunctionContext, key: string, args: unknown[], self: unknown, stamps: string): boolean {
  if (ctx.cache.flights.get(key) !== undefined) return false;
  const run = startRun(ctx, key, args, undefined, self, undefined, stamps);
  run.promise.catch((error: unknown) => fail(ctx, 'refresh', error, 'cachette: a background refresh failed; the stale value stays'));
  if (ctx.hardMs !== undefined && ctx.hardMs <= MAX_TIMER_MS) retireAfter(ctx, run, ctx.hardMs);
  return true;
}

/**
 * A background refresh has no caller whose timeout would retire it: past the function's hard timeout
 * it is retired (and reported) here, so an origin that never answers does not block every later refresh.
 */
function retireAfter(ctx: FunctionContext, run: FlightRun, hardMs: number): void {
  const timer = setTimeout(() => {
    run.retire();
    fail(ctx, 'refresh', new CacheOriginTimeoutError(ctx.name, hardMs), 'cachette: a background refresh passed its hard timeout; the stale value stays');
  }, hardMs);
  timer.unref?.();
  const clear = (): void => clearTimeout(timer);
  run.promise.then(clear, clear);
}

function missWithFallback(
  ctx: FunctionContext,
  key: string,
  args: unknown[],
  call: ResolvedCall | undefined,
  fallback: Entry | undefined,
  self: unknown,
  source: Source | undefined,
  known: string | undefined,
): Promise<unknown> {
  ctx.stats.misses++;
  const running = joinableRun(ctx, key);
  if (running !== undefined) {
    ctx.stats.coalesced++;
    running.join();
    call?.record?.ran('coalesced', running, storedTtl(ctx, call));
    return waitFor(ctx, running, call, fallback, staleServed);
  }
  const run = startRun(ctx, key, args, call, self, source, known);
  call?.record?.ran('miss', run, storedTtl(ctx, call));
  return waitFor(ctx, run, call, fallback, staleServed);
}

function joinableRun(ctx: FunctionContext, key: string): FlightRun | undefined {
  const running = ctx.cache.flights.runFor(key);
  return running !== undefined && running.joinable ? running : undefined;
}

/**
 * Run the origin as `run`, with the caller's `this` (`self`), never the engine's context; the promise
 * settles exactly as the origin does (sync throws included).
 */
function callOrigin(ctx: FunctionContext, args: unknown[], self: unknown, run: FlightRun, source: Source | undefined): Promise<unknown> {
  if (source !== undefined) return source();
  try {
    return Promise.resolve(callAs(run, () => Reflect.apply(ctx.origin, self, args)));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** An origin run nobody else joins (a pure bypass). */
function privateRun(ctx: FunctionContext, args: unknown[], self: unknown, source: Source | undefined): FlightRun {
  const run = new FlightRun();
  const origin = callOrigin(ctx, args, self, run, source);
  run.promise = ctx.schema === undefined ? origin : origin.then((value) => checkFresh(ctx, value));
  return run;
}

/**
 * Run the origin as the flight for `key` (concurrent misses join it), then write its result, unless
 * a newer run for the key started meanwhile (a forced refresh) or the key was invalidated: their
 * value is newer, so this one must not overwrite it.
 */
function startRun(
  ctx: FunctionContext,
  key: string,
  args: unknown[],
  call: ResolvedCall | undefined,
  self: unknown,
  source: Source | undefined,
  known?: string,
): FlightRun {
  const run = new FlightRun();
  // The stamps are taken before the origin starts: an invalidation while it runs makes its entry
  // stale or gone, never fresh.
  const stamps = known ?? (call !== undefined && !call.write ? undefined : stampsNow(ctx, args));
  const go = (stamped: string | undefined): Promise<unknown> => {
    const plan: RunPlan = { ctx, key, args, call, self, run, source, stamps: stamped };
    // Read-through misses and background refreshes share one origin run across processes;
    // bypasses and forced refreshes (call.read false) never wait for another process.
    if (ctx.lock !== undefined && (call === undefined || call.read)) return runLocked(ctx.lock, lockedMiss(plan));
    return runAndStore(plan);
  };
  run.promise = stamps instanceof Promise ? stamps.then(go) : go(stamps);
  run.scope = { generations: ctx.stamps.keys, tagKeys: () => (ctx.tagsOf === undefined ? undefined : (tagKeysFor(ctx, args, false) ?? [])) } satisfies RunScopeLike;
  ctx.cache.flights.start(key, run.promise, run);
  return run;
}

/** One origin run: what it runs, for which call, and the stamps its entry will carry. */
interface RunPlan {
  readonly ctx: FunctionContext;
  readonly key: string;
  readonly args: unknown[];
  readonly call: ResolvedCall | undefined;
  /** The caller's `this`, given to the origin. */
  readonly self: unknown;
  readonly run: FlightRun;
  /** Where the value comes from instead of the origin (one item of a `batch`). */
  readonly source: Source | undefined;
  /** Taken before the origin started; `undefined` when they could not be read (nothing is written). */
  readonly stamps: string | undefined;
}

/** What the miss lock needs for one run: how to read the key as a hit would, and the holder's work. */
function lockedMiss(plan: RunPlan): LockedMiss {
  const { ctx, key, call, stamps } = plan;
  return {
    store: ctx.store,
    key,
    stats: ctx.stats,
    waitForWrite: call?.waitForWrite ?? ctx.waitForWrite,
    decode: (raw) => {
      const found = freshValue(ctx, raw, stamps);
      if (found !== undefined) plan.run.fromStore = true;
      return found;
    },
    waited: () => {
      plan.run.lockWaited = true;
    },
    compute: async () => {
      const { value, stored } = await originThenStore(plan);
      return { value, stored: stored ?? NOTHING_STORED };
    },
    fail: (error, message) => fail(ctx, 'lock', error, message),
    lost: () =>
      ctx.cache.report(
        { kind: 'lock', fn: ctx.name, store: ctx.store.name, err: new Error('the lock expired before its holder released it') },
        'cachette: the miss lock expired while the origin ran; another process may have run it too (raise lock.ttl)',
      ),
    track: (work) => ctx.cache.track(work),
    now: () => ctx.cache.clock.now(),
  };
}

const NOTHING_STORED: Promise<void> = Promise.resolve();

/**
 * The value a hit would serve from `raw` (fresh, decodable, passing the schema: its output), wrapped;
 * `undefined` otherwise. Not counted: the read that led to this wait counted its own entry.
 */
function freshValue(ctx: FunctionContext, raw: string | Uint8Array, stamps: string | undefined): MaybePromise<{ value: unknown } | undefined> {
  let entry: Entry | undefined;
  try {
    entry = decodeEntry(ctx.cache.codec, raw);
  } catch {
    return undefined; // the holder overwrites it; the read path reports undecodable entries
  }
  // Written under other stamps (before an invalidation this run's read saw): not this run's answer.
  if (entry === undefined || stamps === undefined || judgeStamps(entry.stamps, stamps) !== 'fresh') return undefined;
  if (judgedByAge(ctx, entry)) {
    const age = ageOf(ctx.cache.clock.now(), entry);
    if (age < 0 || age >= (entry.ttlMs as number)) return undefined;
  }
  if (ctx.schema === undefined) return { value: entry.value };
  const output = check(ctx.schema, entry.value);
  if (output instanceof Promise) return output.then((checked) => (checked instanceof Invalid ? undefined : { value: checked }));
  return output instanceof Invalid ? undefined : { value: output };
}

/** A run without the lock: the origin, then its write (awaited unless `waitForWrite` is off). */
async function runAndStore(plan: RunPlan): Promise<unknown> {
  const { value, stored } = await originThenStore(plan);
  if (stored !== undefined && (plan.call?.waitForWrite ?? plan.ctx.waitForWrite)) await stored;
  return value;
}

/**
 * Run the origin, then start storing its result (see {@link storeResult}). The origin's duration is
 * measured only when the entry records it (`c2`).
 */
async function originThenStore(plan: RunPlan): Promise<{ value: unknown; stored: Promise<void> | undefined }> {
  const { ctx } = plan;
  const clock = ctx.cache.clock;
  const started = ctx.extras ? clock.now() : 0;
  // Monotonic, for call records (`originMs`): one reading each side of the origin, on misses only.
  const begun = performance.now();
  const value = await callOrigin(ctx, plan.args, plan.self, plan.run, plan.source);
  plan.run.originMs = performance.now() - begun;
  // A wall clock set back while the origin ran must not give a negative duration (an unreadable header).
  const computeMs = ctx.extras ? Math.max(0, clock.now() - started) : 0;
  if (ctx.schema === undefined) return { value, stored: storeResult(plan, value, computeMs) };
  // The origin's value is what is stored (the schema's input, checked again by every reader); the
  // caller gets the schema's output. A value that fails rejects the call and is not stored.
  const output = await checkFresh(ctx, value);
  return { value: output, stored: storeResult(plan, value, computeMs) };
}

/**
 * The schema's output for a result the origin just returned. @throws {CacheSchemaError} when it
 * fails the schema: the caller would otherwise get a value of another type than the one declared.
 */
async function checkFresh(ctx: FunctionContext, value: unknown): Promise<unknown> {
  const output = await check(ctx.schema as StandardSchema, value);
  if (output instanceof Invalid) throw schemaError(ctx.name, "the origin's result", output);
  return output;
}

/** Start writing a fresh result, when this run may (see {@link startRun}); `undefined` when it may not. */
function storeResult(plan: RunPlan, value: unknown, computeMs: number): Promise<void> | undefined {
  const { ctx, key, call, stamps } = plan;
  // No stamps: they could not be read (reported); an entry without them would never be served.
  if ((call !== undefined && !call.write) || stamps === undefined) return undefined;
  if (!ctx.cache.flights.isCurrent(key, plan.run.promise)) return undefined;
  const writing = write(ctx, key, value, plan.args, call?.ttlMs, computeMs, stamps);
  // Every write is tracked (not only background ones), so cache.close() never cuts one short.
  ctx.cache.track(writing);
  return writing;
}

/** Store `value`. Never rejects: every failure is counted and reported. */
export async function write(
  ctx: FunctionContext,
  key: string,
  value: unknown,
  args: unknown[],
  callTtlMs: number | undefined,
  computeMs: number,
  stamps: string,
): Promise<void> {
  // An open circuit breaker would refuse the write: skip the encoding and the rejected promise.
  if (ctx.store.isAvailable?.() === false) {
    ctx.stats.skipped++;
    return;
  }
  if (ctx.skipCache !== undefined) {
    try {
      if (ctx.skipCache(value, args)) return;
    } catch (error) {
      fail(ctx, 'skipCache', error, 'cachette: skipCache threw; the result was not cached');
      return;
    }
  }
  const ttlMs = callTtlMs ?? resolveTtl(ctx, value, args);
  if (ttlMs === null || ttlMs === 0) return;
  if (ttlMs !== undefined && ttlMs !== Infinity && !(ttlMs <= MAX_TTL_MS)) {
    // The entry header could not hold it: stored, it would read back as a miss on every call.
    fail(ctx, 'ttl', new RangeError(`the ttl is over ${MAX_TTL_MS} ms (use Infinity for no expiry)`), 'cachette: ttl too long; the result was not cached');
    return;
  }
  const stored = ttlMs === Infinity ? undefined : ttlMs === undefined ? undefined : Math.max(1, Math.ceil(ttlMs));
  // Entries that can go stale live ttl + window in the store; the envelope records both.
  const staleMs = stored === undefined ? 0 : ctx.staleWindowMs;
  const extras = ctx.extras ? { staleMs, computeMs } : undefined;
  let payload;
  try {
    payload = encodeEntry(ctx.cache.codec, value, ctx.cache.clock.now(), stored, extras, stamps);
  } catch (error) {
    // Named per function: the default logger prints one line per kind, so the line must say whose result it was.
    fail(ctx, 'encode', error, `cachette: ${ctx.name}: the result could not be serialized; it was returned but not cached`);
    return;
  }
  // This process's own write: its held copy is dropped now (the watch announces it only later).
  ctx.tier?.changed(key);
  try {
    await ctx.store.set(key, payload, stored === undefined ? undefined : stored + staleMs);
  } catch (error) {
    fail(ctx, 'write', error, 'cachette: cache write failed');
  }
}

/** The TTL for a fresh value: ms, `undefined` for no expiry, `null` when the ttl function failed. */
function resolveTtl(ctx: FunctionContext, value: unknown, args: unknown[]): number | undefined | null {
  if (ctx.ttlFn === undefined) return ctx.ttlMs;
  let ttl: unknown;
  try {
    ttl = ctx.ttlFn(value, args);
  } catch (error) {
    fail(ctx, 'ttl', error, 'cachette: the ttl function threw; the result was not cached');
    return null;
  }
  if (ttl === undefined) return undefined;
  const ms = toMs(ttl);
  if (ms === undefined) {
    fail(ctx, 'ttl', new TypeError('the ttl function returned something that is not a non-negative duration'), 'cachette: invalid ttl; the result was not cached');
    return null;
  }
  return ms;
}

/** An origin error answered with a stale value (`staleIfError`): reported and counted. */
function staleServed(ctx: FunctionContext, error: unknown): void {
  fail(ctx, 'origin', error, 'cachette: the origin failed; serving a stale value (staleIfError)');
}

function fail(ctx: FunctionContext, kind: FailureKind, err: unknown, message: string): void {
  // An open circuit breaker skipped the store: expected while it cools down, so neither an error nor a log line.
  if (err instanceof CacheUnavailableError) {
    ctx.stats.skipped++;
    return;
  }
  ctx.stats.errors++;
  ctx.cache.report({ kind, fn: ctx.name, store: ctx.store.name, err }, message);
}

/** Remove the entry at `key`. @throws the store's error (after counting and reporting it). */
export async function invalidate(ctx: FunctionContext, key: string): Promise<boolean> {
  ctx.cache.flights.abandon(key);
  ctx.tier?.changed(key);
  const event = { scope: 'key', name: ctx.name, namespace: ctx.cache.namespace, stale: false } as const;
  let removed: boolean;
  try {
    removed = await ctx.store.delete(key);
  } catch (error) {
    fail(ctx, 'delete', error, 'cachette: cache delete failed');
    publishInvalidate(() => ({ ...event, ok: false }));
    throw error;
  }
  publishInvalidate(() => ({ ...event, ok: true, removed }));
  return removed;
}

function noop(): void {}
