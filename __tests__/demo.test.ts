/**
 * `npm run demo` end to end: examples/demo.mjs runs against the build (it imports 'cachette'), once per
 * store, and its printed account of each call is checked line by line.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { ensureBuilt } from './helpers/build.js';
import { findRedisServer } from './helpers/redis-server.js';

const root = resolve(__dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Run the demo with `env` added to this process's environment; resolves when it exits (bounded). */
function runDemo(env: Record<string, string>): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(root, 'examples', 'demo.mjs')], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT'); // the demo stops its redis-server on SIGINT
      fail(new Error(`the demo did not exit within 30 s\n${stdout}\n${stderr}`));
    }, 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, lines: stdout.split('\n') });
    });
  });
}

/** The line right after the first line containing `marker` (where the demo prints the outcome). */
function outcomeAfter(run: Run, marker: string): string {
  const at = run.lines.findIndex((line) => line.includes(marker));
  expect(at).toBeGreaterThanOrEqual(0);
  // origin output may come first: take the first "→" line after the marker
  const outcome = run.lines.slice(at + 1).find((line) => line.trimStart().startsWith('→'));
  return outcome ?? '';
}

function ms(line: string, pattern: RegExp): number {
  const match = pattern.exec(line);
  expect(match).not.toBeNull();
  return Number(match?.[1]);
}

/** Resolves true when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** What every run must show, whatever the store. */
function expectWalkthrough(run: Run, ttlLabel: string): void {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);

  // 1. miss, hit, bypass, invalidate
  expect(run.stdout).toContain('keyFor(101) → demo:getUserData:101');
  expect(outcomeAfter(run, 'call 1: getUserData(101)')).toMatch(/→ miss {2}lastUpdated /);
  expect(run.stdout).toMatch(/demo:getUserData:101 → s1\|json\|\d+\|10000\|[\w-]{8}\.[\w-]{8},[\w-]{8}\.[\w-]{8}\|\{"userId":101,"name":"User 101","lastUpdated":"[^"]+"\}/);
  expect(outcomeAfter(run, 'call 2: getUserData(101)')).toMatch(/→ hit .* same data\? true$/);
  expect(outcomeAfter(run, 'call 3: getUserData(101, { bypassCache: true })')).toMatch(/→ bypass .* fresh data\? true {2}origin ran\? true$/);
  expect(run.stdout).toMatch(/cache neither read nor written: .*\(untouched\? true\)/);
  expect(outcomeAfter(run, 'call 4: getUserData(101)')).toMatch(/→ hit .* still the first value\? true$/);
  expect(run.stdout).toContain('getUserData.invalidate(101) → true');
  expect(outcomeAfter(run, 'call 5: getUserData(101)')).toMatch(/→ miss .* fresh data\? true$/);

  // 2. versioned keys
  expect(outcomeAfter(run, "first call: getProductData(201, 'v1')")).toMatch(/→ miss {2}version v1 .* keyFor → demo:getProductData:product:201:v1$/);
  expect(outcomeAfter(run, "second call: getProductData(201, 'v1')")).toMatch(/→ hit {2}version v1 .* cache hit\? true$/);
  expect(outcomeAfter(run, "call with v2: getProductData(201, 'v2')")).toMatch(/→ miss {2}version v2 .* keyFor → demo:getProductData:product:201:v2 {2}fresh data\? true$/);
  expect(run.stdout).toContain('cached(fn, { version: 2 }).keyFor(201) → demo:getProductData:v2:201');

  // 3. TTL from the result: what the store holds, not what the demo computed
  const basic = ms(outcomeAfter(run, 'getUserSubscription(101)'), new RegExp(`plan basic {2}${ttlLabel} (\\d+) ms`));
  const premium = ms(outcomeAfter(run, 'getUserSubscription(102)'), new RegExp(`plan premium {2}${ttlLabel} (\\d+) ms`));
  expect(basic).toBeGreaterThan(15_000);
  expect(basic).toBeLessThanOrEqual(20_000);
  expect(premium).toBeGreaterThan(55_000);
  expect(premium).toBeLessThanOrEqual(60_000);
  const electronics = outcomeAfter(run, "getProductCatalog('Electronics', true)");
  expect(electronics).toMatch(/complexityTtl 60 s/);
  expect(ms(electronics, new RegExp(`${ttlLabel} (\\d+) ms`))).toBeGreaterThan(55_000);

  // 4. a per-call ttl on a hit extends the live entry
  expect(outcomeAfter(run, 'getProduct(333)')).toMatch(/→ miss /);
  const extended = outcomeAfter(run, 'getProduct(333, { ttl: 60_000 })');
  expect(extended).toMatch(/→ hit .* same data\? true$/);
  const before = ms(extended, new RegExp(`${ttlLabel} (\\d+) ms before`));
  const after = ms(extended, /, (\d+) ms after/);
  expect(before).toBeLessThanOrEqual(30_000);
  expect(after).toBeGreaterThan(55_000);
  expect(after).toBeLessThanOrEqual(60_000);

  // 5. forceRefresh
  expect(outcomeAfter(run, 'getUserData(101, { forceRefresh: true })')).toMatch(/→ refresh .* fresh data\? true$/);
  expect(run.stdout).toMatch(/→ hit .* the refreshed value\? true/);

  // 6. stats, as the library counted them
  expect(run.stdout).toMatch(/getUserData +hits=3 misses=2 bypasses=1 refreshes=1 coalesced=0 errors=0/);
  expect(run.stdout).toMatch(/getProductData +hits=1 misses=2 bypasses=0 refreshes=0 coalesced=0 errors=0/);
  expect(run.stdout).toMatch(/getUserSubscription +hits=0 misses=2 /);
  expect(run.stdout).toMatch(/getProductCatalog +hits=0 misses=2 /);
  expect(run.stdout).toMatch(/getProduct +hits=1 misses=1 /);
  expect(run.stdout).toContain('getUserData origin runs: 4');

  // 7. values keep their type on a hit
  expect(outcomeAfter(run, 'getOrder(7)')).toMatch(/→ miss/);
  expect(run.stdout).toMatch(/→ hit {2}placedAt is a Date\? true {2}tags is a Set\? true {2}cents is a bigint\? true/);

  // 8. tags and clearing
  expect(run.stdout).toMatch(/→ a: miss \(recomputed, cents 1003\) {2}b: hit \(untouched, cents 1002\)/);
  expect(run.stdout).toMatch(/→ stale: the old price at once \(cents 1002\)/);
  expect(run.stdout).toMatch(/→ hit: the refreshed price \(cents 1004\)/);
  expect(run.stdout).toMatch(/→ miss: every entry of getPrice was cleared/);
  expect(run.stdout).toMatch(/getPrice hits=2 misses=4 .*stale=1 /);
  expect(run.stdout).toMatch(/\ndone in [\d.]+ s; cache closed/);
}

describe('npm run demo', () => {
  beforeAll(ensureBuilt, 180_000);

  it('walks through the seed on a throwaway redis-server and stops it', async () => {
    const redisDir = dirname(findRedisServer());
    const run = await runDemo({ CACHETTE_DEMO_STORE: 'redis', PATH: `${redisDir}${delimiter}${process.env.PATH ?? ''}` });
    const banner = /^store: redis \(throwaway redis-server \S+ on 127\.0\.0\.1:(\d+)\)$/.exec(run.lines[0] ?? '');
    expect(banner).not.toBeNull();
    expectWalkthrough(run, 'PTTL');
    expect(run.stdout).toContain('GET demo:getUserData:101 → s1|json|');
    expect(run.stdout).toContain('commands the hit sent to Redis: GETEX x1 (read and extension in one round trip)');
    // 9. two tiers
    expect(run.stdout).toMatch(/process A: getStock\('x'\) → miss {2}units 10/);
    expect(run.stdout).toMatch(/process B: getStock\('x'\) → hit from Redis {2}units 10/);
    expect(run.stdout).toMatch(/process B: getStock\('x'\) → hit from the process \(l1\) {2}units 10/);
    expect(run.stdout).toMatch(/after process A's stockA.refresh\('x'\): process B getStock\('x'\) → hit from (Redis|the process \(l1\)) {2}units 20/);
    expect(run.stdout).toMatch(/inB.health\(\).l1 → \{"state":"ready","entries":1,/);
    expect(run.stdout).toContain('cache closed, redis-server stopped');
    expect(await listening(Number(banner?.[1]))).toBe(false);
  }, 60_000);

  it('walks through the seed on the memory store when asked to', async () => {
    const run = await runDemo({ CACHETTE_DEMO_STORE: 'memory' });
    expect(run.lines[0]).toBe('store: memory (CACHETTE_DEMO_STORE=memory)');
    expectWalkthrough(run, 'ttlOf');
    expect(run.stdout).toContain('cache.store.get demo:getUserData:101 → s1|json|');
    expect(run.stdout).toContain('skipped: the in-process tier sits in front of Redis');
  }, 60_000);

  it('falls back to the memory store when there is no redis-server on PATH', async () => {
    const emptyBin = mkdtempSync(join(tmpdir(), 'cachette-no-redis-'));
    try {
      const run = await runDemo({ CACHETTE_DEMO_STORE: 'auto', PATH: emptyBin });
      expect(run.lines[0]).toBe('store: memory (no redis-server on PATH)');
      expectWalkthrough(run, 'ttlOf');
    } finally {
      rmSync(emptyBin, { recursive: true, force: true });
    }
  }, 60_000);
});
