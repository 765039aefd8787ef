/**
 * `cacheStatus(meta)`: an RFC 9211 `Cache-Status` header value from what `f.withMeta()` resolved to.
 * @module
 */
import { configError } from './config/parse.js';
import type { CallMeta } from './observe.js';

/** An RFC 8941 token: what a cache's name may be written as without quotes. */
const TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*$/;
/** What an RFC 8941 string may hold: printable ASCII. */
const PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * Format an RFC 9211 `Cache-Status` header value (one list member: this cache's) from the metadata
 * of one call.
 *
 * - a fresh hit: `cachette; hit; ttl=299` (seconds of freshness left, when known; `; detail=l1` when
 *   the in-process tier answered);
 * - a stale value served at once while it refreshes in the background (`staleWhileRevalidate`):
 *   `cachette; hit; ttl=-5` (a hit: the call was not forwarded; a negative ttl says it is stale);
 * - a stale value served because the origin failed or was slow (`staleIfError`, `timeout.soft`):
 *   `cachette; fwd=stale; ttl=-5`;
 * - a miss: `cachette; fwd=miss; ttl=300` (the ttl it was stored with, when known); a miss that
 *   joined a run already in flight: `cachette; fwd=miss; collapsed`;
 * - `bypassCache`: `cachette; fwd=bypass`;
 * - `forceRefresh` / `f.refresh()`: `cachette; fwd=request` (forwarded because the caller asked).
 *
 * `ttl` is left out when unknown or infinite (stored without expiry). If another cache in front (a
 * CDN) adds its own member, append yours after it: the header lists caches from the origin outwards.
 *
 * @param meta - what {@link CachedFunction.withMeta} resolved to.
 * @param name - the cache's identifier in the header; written as a token when it is one, as a
 *   quoted string otherwise. @defaultValue `'cachette'`
 * @example
 * ```ts
 * const meta = await getUser.withMeta(42);
 * res.setHeader('Cache-Status', cacheStatus(meta, 'api')); // "api; hit; ttl=299"
 * res.json(meta.value);
 * ```
 * @throws {CacheConfigError} when `name` has characters a header cannot carry (outside printable ASCII).
 */
export function cacheStatus(meta: Pick<CallMeta, 'status' | 'ttl' | 'tier' | 'forwarded'>, name = 'cachette'): string {
  let member = identifier(name);
  const status = meta.status;
  if (status === 'hit' || (status === 'stale' && !meta.forwarded)) member += '; hit';
  else if (status === 'stale') member += '; fwd=stale';
  else if (status === 'bypass') member += '; fwd=bypass';
  else if (status === 'refresh') member += '; fwd=request';
  else member += '; fwd=miss';
  const ttl = meta.ttl;
  if (ttl !== undefined && Number.isFinite(ttl) && status !== 'bypass') member += `; ttl=${Math.floor(ttl / 1000)}`;
  if (status === 'coalesced') member += '; collapsed';
  if (meta.tier === 'l1') member += '; detail=l1';
  return member;
}

function identifier(name: string): string {
  if (typeof name !== 'string' || !PRINTABLE.test(name)) throw configError('name', 'expected printable ASCII (a Cache-Status header cannot carry other characters)');
  if (TOKEN.test(name)) return name;
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
