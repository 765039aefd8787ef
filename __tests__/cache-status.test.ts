/**
 * `cacheStatus(meta)`: the exact RFC 9211 `Cache-Status` strings for every outcome a call can have.
 */
import { describe, expect, it } from '@jest/globals';
import { CacheConfigError, cacheStatus, type CallMeta } from '../lib/index.js';

function meta(fields: Partial<CallMeta>): CallMeta {
  return { value: undefined, status: 'hit', tier: 'store', age: undefined, ttl: undefined, forwarded: false, ...fields };
}

describe('cacheStatus', () => {
  it('writes a fresh hit with its remaining freshness in whole seconds', () => {
    expect(cacheStatus(meta({ status: 'hit', ttl: 299_999, age: 1 }))).toBe('cachette; hit; ttl=299');
    expect(cacheStatus(meta({ status: 'hit', ttl: 1000 }))).toBe('cachette; hit; ttl=1');
    expect(cacheStatus(meta({ status: 'hit', ttl: 999 }))).toBe('cachette; hit; ttl=0');
  });

  it('leaves ttl out when it is unknown or infinite', () => {
    expect(cacheStatus(meta({ status: 'hit', ttl: undefined }))).toBe('cachette; hit');
    expect(cacheStatus(meta({ status: 'hit', ttl: Infinity }))).toBe('cachette; hit');
  });

  it('says which hits the in-process tier answered', () => {
    expect(cacheStatus(meta({ status: 'hit', tier: 'l1', ttl: 5000 }))).toBe('cachette; hit; ttl=5; detail=l1');
  });

  it('writes a stale value served without forwarding as a hit with a negative ttl', () => {
    expect(cacheStatus(meta({ status: 'stale', ttl: -4500, forwarded: false }))).toBe('cachette; hit; ttl=-5');
  });

  it('writes a stale value served after the origin failed or was slow as fwd=stale', () => {
    expect(cacheStatus(meta({ status: 'stale', ttl: -500, forwarded: true }))).toBe('cachette; fwd=stale; ttl=-1');
  });

  it('writes misses, collapsed misses, bypasses and refreshes as forwarded, each with its reason', () => {
    expect(cacheStatus(meta({ status: 'miss', tier: 'origin', ttl: 60_000, forwarded: true }))).toBe('cachette; fwd=miss; ttl=60');
    expect(cacheStatus(meta({ status: 'miss', tier: 'origin', forwarded: true }))).toBe('cachette; fwd=miss');
    expect(cacheStatus(meta({ status: 'coalesced', tier: 'origin', forwarded: true }))).toBe('cachette; fwd=miss; collapsed');
    expect(cacheStatus(meta({ status: 'bypass', tier: 'origin', ttl: 60_000, forwarded: true }))).toBe('cachette; fwd=bypass');
    expect(cacheStatus(meta({ status: 'refresh', tier: 'origin', forwarded: true }))).toBe('cachette; fwd=request');
  });

  it('writes the cache name as a token when it is one, as a quoted string otherwise', () => {
    expect(cacheStatus(meta({ status: 'hit' }), 'api-cache')).toBe('api-cache; hit');
    expect(cacheStatus(meta({ status: 'hit' }), 'my "api" cache')).toBe('"my \\"api\\" cache"; hit');
    expect(cacheStatus(meta({ status: 'hit' }), 'a\\b')).toBe('"a\\\\b"; hit');
    expect(cacheStatus(meta({ status: 'hit' }), '1st')).toBe('"1st"; hit');
  });

  it('refuses a name a header cannot carry', () => {
    expect(() => cacheStatus(meta({}), 'café')).toThrow(CacheConfigError);
    expect(() => cacheStatus(meta({}), 'a\nb')).toThrow(/name: expected printable ASCII/);
  });
});
