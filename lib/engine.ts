/**
 * The read-through algorithm for one call: read → decide → run the origin → write.
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
import { toMs } from './duration.js';
import { decodeEntry, encodeEntry } from './entry.js';
import type { FailureKind } from './log.js';
import type { ResolvedCall } from './options.js';
import type { CacheStats } from './stats.js';
import type { Store } from './stores/store.js';

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
}

/** Answer one call for `key`; `call` is undefined when no call options were passed (the common case). */
export function execute(ctx: FunctionContext, key: string, args: unknown[], call: ResolvedCall | undefined): Promise<unknown> {
  if (call === undefined) return readThrough(ctx, key, args, undefined);
  if (call.bypass) {
    ctx.stats.bypasses++;
    // A pure bypass is private to its caller; with cacheWrite: true it is an ordinary run.
    return call.write ? startRun(ctx, key, args, call) : callOrigin(ctx, args);
  }
  if (call.refresh) {
    ctx.stats.refreshes++;
    return startRun(ctx, key, args, call);
  }
  if (!call.read) {
    ctx.stats.misses++;
    return startRun(ctx, key, args, call);
  }
  return readThrough(ctx, key, args, call);
}

async function readThrough(ctx: FunctionContext, key: string, args: unknown[], call: ResolvedCall | undefined): Promise<unknown> {
  // The read is inlined (not a helper) to keep one async frame on the hit path.
  const store = ctx.store;
  const extendMs = call?.ttlMs;
  let raw: string | Uint8Array | undefined;
  try {
    raw =
      extendMs !== undefined && extendMs > 0 && ctx.updateTtlOnHit && store.getAndExpire !== undefined
        ? await store.getAndExpire(key, extendMs)
        : await store.get(key);
  } catch (error) {
    fail(ctx, 'read', error, 'cachette: cache read failed; calling the origin');
  }
  if (raw !== undefined) {
    let entry;
    try {
      entry = decodeEntry(ctx.cache.serializer, raw);
    } catch (error) {
      fail(ctx, 'decode', error, 'cachette: a stored entry could not be decoded; treating it as a miss');
    }
    if (entry !== undefined) {
      ctx.stats.hits++;
      return entry.value;
    }
  }
  ctx.stats.misses++;
  const inFlight = ctx.cache.flights.get(key);
  if (inFlight !== undefined) {
    ctx.stats.coalesced++;
    return inFlight;
  }
  return startRun(ctx, key, args, call);
}

/** Run the origin; the promise settles exactly as the origin does (sync throws included). */
function callOrigin(ctx: FunctionContext, args: unknown[]): Promise<unknown> {
  try {
    return Promise.resolve(ctx.origin(...args));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Run the origin as the flight for `key` (concurrent misses join it), then write its result, unless
 * a newer run for the key started meanwhile (a forced refresh) or the key was invalidated: their
 * value is newer, so this one must not overwrite it.
 */
function startRun(ctx: FunctionContext, key: string, args: unknown[], call: ResolvedCall | undefined): Promise<unknown> {
  const run: Promise<unknown> = callOrigin(ctx, args).then((value) => afterOrigin(ctx, key, value, args, call, run));
  return ctx.cache.flights.start(key, run);
}

async function afterOrigin(
  ctx: FunctionContext,
  key: string,
  value: unknown,
  args: unknown[],
  call: ResolvedCall | undefined,
  run: Promise<unknown>,
): Promise<unknown> {
  if (call !== undefined && !call.write) return value;
  if (!ctx.cache.flights.isCurrent(key, run)) return value;
  const writing = write(ctx, key, value, args, call?.ttlMs);
  // Every write is tracked (not only background ones), so cache.close() never cuts one short.
  ctx.cache.track(writing);
  if (call?.waitForWrite ?? ctx.waitForWrite) await writing;
  return value;
}

/** Store `value`. Never rejects: every failure is counted and reported. */
export async function write(ctx: FunctionContext, key: string, value: unknown, args: unknown[], callTtlMs: number | undefined): Promise<void> {
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
  const stored = ttlMs === Infinity ? undefined : ttlMs === undefined ? undefined : Math.max(1, Math.ceil(ttlMs));
  let payload;
  try {
    payload = encodeEntry(ctx.cache.serializer, value, ctx.cache.clock.now(), stored);
  } catch (error) {
    fail(ctx, 'encode', error, 'cachette: the result could not be serialized; it was returned but not cached');
    return;
  }
  try {
    await ctx.store.set(key, payload, stored);
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

function fail(ctx: FunctionContext, kind: FailureKind, err: unknown, message: string): void {
  ctx.stats.errors++;
  ctx.cache.report({ kind, fn: ctx.name, store: ctx.store.name, err }, message);
}

/** Remove the entry at `key`. @throws the store's error (after counting and reporting it). */
export async function invalidate(ctx: FunctionContext, key: string): Promise<boolean> {
  ctx.cache.flights.abandon(key);
  try {
    return await ctx.store.delete(key);
  } catch (error) {
    fail(ctx, 'delete', error, 'cachette: cache delete failed');
    throw error;
  }
}
