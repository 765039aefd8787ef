/**
 * Resolution: validated options turned into the plain settings the engine, the lock and the stores
 * read, with every default applied here (the numbers themselves live in `defaults.ts`).
 *
 * It declares the option fields it reads structurally instead of importing `CachedOptions`, so it
 * never depends on the `Cache` class (`cached-options.ts` checks at compile time that the two agree).
 * @module
 */
import {
  DEFAULT_BREAKER_COOLDOWN_MS,
  DEFAULT_BREAKER_THRESHOLD,
  DEFAULT_LOCK,
  DEFAULT_REFRESH_BETA,
  DEFAULT_UPDATE_TTL_ON_HIT,
  DEFAULT_WAIT_FOR_WRITE,
  MAX_TTL_MS,
} from '../defaults.js';
import { toMs, type Duration } from '../duration.js';
import type { LockSettings } from '../locks.js';
import type { BreakerConfig } from './cache-config.js';
import { CALL_OPTION_NAMES, callOptionsSchema, type CallOptions, type TimeoutOption } from './call-options.js';
import { parseOrThrow } from './parse.js';
import type { CallRecord } from '../observe.js';

/** The lock fields of `cached()`'s `lock` option, as resolution reads them. */
export interface LockFields {
  ttl?: Duration;
  wait?: Duration;
  pollInterval?: Duration;
  maxPollInterval?: Duration;
}

/** The fields of `cached()`'s options that resolve to settings (callbacks are passed on as given). */
export interface FunctionOptionFields {
  ttl?: unknown;
  updateTtlOnHit?: boolean;
  waitForWrite?: boolean;
  staleWhileRevalidate?: Duration;
  staleIfError?: Duration;
  refreshAhead?: boolean | { beta?: number };
  timeout?: TimeoutOption;
  lock?: boolean | LockFields;
}

/** A cached function's settings, resolved once by `cached()`. */
export interface FunctionSettings {
  /** The function's static TTL in ms (`undefined`: no expiry); unused when `ttl` is a function. */
  readonly ttlMs: number | undefined;
  readonly updateTtlOnHit: boolean;
  readonly waitForWrite: boolean;
  /** `staleWhileRevalidate` in ms (0: off). */
  readonly swrMs: number;
  /** `staleIfError` in ms (0: off). */
  readonly staleIfErrorMs: number;
  /** XFetch `beta`, or `undefined` when refresh-ahead is off. */
  readonly refreshBeta: number | undefined;
  /** `max(swrMs, staleIfErrorMs)`: how long past its ttl an entry stays in the store. */
  readonly staleWindowMs: number;
  /** Entries need the `c2` envelope and the engine judges freshness (stale windows or refresh-ahead). */
  readonly extras: boolean;
  /** The function's origin timeouts in ms. */
  readonly softMs: number | undefined;
  readonly hardMs: number | undefined;
  /** The cross-process miss lock, or `undefined` without one. */
  readonly lock: LockSettings | undefined;
}

/** Resolve the (validated) options of `cached()`. */
export function resolveFunction(options: FunctionOptionFields): FunctionSettings {
  const ttl = options.ttl;
  const swrMs = msOr(options.staleWhileRevalidate, 0);
  const staleIfErrorMs = msOr(options.staleIfError, 0);
  const refreshAhead = options.refreshAhead;
  const refreshBeta =
    refreshAhead === undefined || refreshAhead === false ? undefined : refreshAhead === true ? DEFAULT_REFRESH_BETA : (refreshAhead.beta ?? DEFAULT_REFRESH_BETA);
  return {
    ttlMs: typeof ttl === 'function' || ttl === undefined ? undefined : toMs(ttl),
    updateTtlOnHit: options.updateTtlOnHit ?? DEFAULT_UPDATE_TTL_ON_HIT,
    waitForWrite: options.waitForWrite ?? DEFAULT_WAIT_FOR_WRITE,
    swrMs,
    staleIfErrorMs,
    refreshBeta,
    staleWindowMs: Math.max(swrMs, staleIfErrorMs),
    extras: swrMs > 0 || staleIfErrorMs > 0 || refreshBeta !== undefined,
    ...resolveTimeout(options.timeout),
    lock: resolveLock(options.lock),
  };
}

/** Resolve the (validated) `lock` option; `undefined` when there is no lock. */
export function resolveLock(option: boolean | LockFields | undefined): LockSettings | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_LOCK;
  const pollMs = msOr(option.pollInterval, DEFAULT_LOCK.pollMs);
  return {
    ttlMs: Math.max(1, Math.ceil(msOr(option.ttl, DEFAULT_LOCK.ttlMs))),
    waitMs: msOr(option.wait, DEFAULT_LOCK.waitMs),
    pollMs,
    maxPollMs: msOr(option.maxPollInterval, Math.max(pollMs, DEFAULT_LOCK.maxPollMs)),
  };
}

/** The circuit breaker's settings from `createCache`'s (validated) `breaker` option; `false`: never opens. */
export function resolveBreaker(option: BreakerConfig | boolean | undefined): { threshold: number; cooldownMs: number } | false {
  if (option === false) return false;
  const config = option === true ? undefined : option;
  return {
    threshold: config?.threshold ?? DEFAULT_BREAKER_THRESHOLD,
    cooldownMs: msOr(config?.cooldown, DEFAULT_BREAKER_COOLDOWN_MS),
  };
}

/** `{ soft, hard }` in ms from a {@link TimeoutOption}. */
export function resolveTimeout(option: TimeoutOption | undefined): { softMs: number | undefined; hardMs: number | undefined } {
  if (option === undefined) return { softMs: undefined, hardMs: undefined };
  if (typeof option === 'object') return { softMs: msOr(option.soft, undefined), hardMs: msOr(option.hard, undefined) };
  return { softMs: undefined, hardMs: toMs(option) };
}

/** A call's options resolved into what the engine needs; built only when options are passed. */
export interface ResolvedCall {
  readonly read: boolean;
  readonly write: boolean;
  readonly bypass: boolean;
  readonly refresh: boolean;
  /** Per-call TTL in ms (may be 0 or Infinity), or undefined. */
  readonly ttlMs: number | undefined;
  readonly waitForWrite: boolean | undefined;
  /** Per-call origin timeouts in ms, when given. */
  readonly softMs?: number | undefined;
  readonly hardMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Where the engine notes how the call was answered (`withMeta`, or a `cachette:call` subscriber). */
  readonly record?: CallRecord | undefined;
}

/** The options of a call made without any: what the engine does for `undefined`, as an object (to carry a record). */
export const PLAIN_CALL: ResolvedCall = Object.freeze({ bypass: false, refresh: false, read: true, write: true, ttlMs: undefined, waitForWrite: undefined });

/** Validate per-call options and resolve them. @throws {CacheConfigError} */
export function resolveCallOptions(options: CallOptions): ResolvedCall {
  // Per-call options sit on the hot path (a sliding TTL passes { ttl } on every hit): the common
  // shapes are checked by hand; anything else goes through zod for the same messages as before.
  const parsed = isPlainCallOptions(options) ? options : parseOrThrow(callOptionsSchema, options, 'callOptions');
  const bypass = parsed.bypassCache === true;
  const refresh = !bypass && parsed.forceRefresh === true;
  return {
    bypass,
    refresh,
    read: !bypass && !refresh && parsed.cacheRead !== false,
    write: bypass ? parsed.cacheWrite === true : parsed.cacheWrite !== false,
    ttlMs: parsed.ttl === undefined ? undefined : toMs(parsed.ttl),
    waitForWrite: parsed.waitForWrite,
    ...(parsed.timeout === undefined ? {} : resolveTimeout(parsed.timeout as TimeoutOption)),
    signal: parsed.signal,
  };
}

/** The options of `refresh()`: no read, a write the call waits for. */
export const REFRESH_CALL: ResolvedCall = Object.freeze({ bypass: false, refresh: true, read: false, write: true, ttlMs: undefined, waitForWrite: true });

/** True for call options made only of booleans and a numeric `ttl` in range: valid without asking zod. */
function isPlainCallOptions(options: CallOptions): boolean {
  for (const key in options) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'ttl') {
      if (typeof value !== 'number' || !(value >= 0) || (value > MAX_TTL_MS && value !== Infinity)) return false;
    } else if (!(CALL_OPTION_NAMES.has(key) && typeof value === 'boolean')) {
      return false;
    }
  }
  return true;
}

function msOr<T extends number | undefined>(value: Duration | undefined, fallback: T): number | T {
  return value === undefined ? fallback : (toMs(value) ?? fallback);
}
