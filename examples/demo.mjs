// The aiocache "enhanced_cached" walkthrough (../shared/reference), replayed on cachette and printed as it
// happens. Runs on a throwaway redis-server when one is on PATH, otherwise on the memory store.
//
//   npm run demo                                 build, then run this file
//   CACHETTE_DEMO_STORE=memory npm run demo      force the memory store
//   CACHETTE_DEMO_STORE=redis npm run demo       require redis-server (exit 1 if it cannot start)
//
// Origins sleep 50-150 ms instead of the article's 0.5-1 s, and nothing waits 35 s for an entry to
// expire: the demo reads the remaining TTL (PTTL) instead, so the whole run takes a couple of seconds.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { cached, createCache } from 'cachette';

const log = (line = '') => console.log(line);

/** A problem with the demo's set-up (bad CACHETTE_DEMO_STORE, no redis-server when one is required). */
class SetupError extends Error {}

// ---------------------------------------------------------------------------------------------
// A throwaway redis-server
// ---------------------------------------------------------------------------------------------

/** The first executable `redis-server` on PATH, or undefined. */
function findOnPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A port that was free a moment ago (the kernel picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One raw PING over a fresh socket; resolves true on +PONG, false otherwise (bounded). */
function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * Start `binary` on a free 127.0.0.1 port with persistence off and wait until it answers PING.
 * Resolves `{ port, stop }`, or throws with the reason (after cleaning up what it started).
 */
async function startRedisServer(binary) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'cachette-demo-'));
    const child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk.toString()).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = false;
    const exit = new Promise((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
      child.once('error', (error) => {
        exited = true;
        output += String(error.message);
        resolve();
      });
    });

    const stop = async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exit;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    };

    // Up to ~3 s for the server to answer; stop early when it exits (e.g. the port was taken meanwhile).
    for (let i = 0; i < 60 && !exited; i++) {
      if (await ping(port)) return { port, pid: child.pid, stop, kill: () => exited || child.kill('SIGKILL') };
      await sleep(50);
    }
    await stop();
    lastError = new Error(exited ? `exited early: ${lastLine(output) || 'no output'}` : 'did not answer PING within 3 s');
  }
  throw lastError;
}

function lastLine(text) {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

// ---------------------------------------------------------------------------------------------
// Choosing the store, and how to look inside it
// ---------------------------------------------------------------------------------------------

const cleanups = [];
let cleaning;
/** Run every cleanup once, newest first; safe to call from several exit paths. */
function cleanup() {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`cleanup: ${error.message}`);
      }
    }
  })();
  return cleaning;
}

let server; // the redis-server we started, if any
process.once('exit', () => server?.kill()); // last resort: never leave redis-server behind
// `npm run demo | head`: stop quietly (and still stop redis-server) when the reader goes away.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  cleanup().finally(() => process.exit(process.exitCode ?? 0));
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    // The walkthrough is still running and its next call would meet a closed cache: that fails open
    // (the origin answers) but the library would say so on console.warn. Nobody is reading now.
    console.warn = () => {};
    cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

async function openStore() {
  const wanted = (process.env.CACHETTE_DEMO_STORE ?? 'auto').toLowerCase();
  if (!['auto', 'redis', 'memory'].includes(wanted)) {
    throw new SetupError(`CACHETTE_DEMO_STORE must be auto, redis or memory, got ${JSON.stringify(wanted)}`);
  }
  if (wanted === 'memory') return memoryStore('CACHETTE_DEMO_STORE=memory');

  const binary = findOnPath('redis-server');
  if (binary === undefined) {
    if (wanted === 'redis') throw new SetupError('CACHETTE_DEMO_STORE=redis but there is no redis-server on PATH');
    return memoryStore('no redis-server on PATH');
  }
  try {
    server = await startRedisServer(binary);
  } catch (error) {
    if (wanted === 'redis') throw new SetupError(`${binary} did not start: ${error.message}`);
    return memoryStore(`${binary} did not start: ${error.message}`);
  }
  cleanups.push(() => server.stop());

  // A separate client, only to look at what cachette wrote (PTTL, GET, INFO commandstats).
  const admin = createClient({ socket: { host: '127.0.0.1', port: server.port, reconnectStrategy: false } });
  admin.on('error', () => {
    // the server is ours and local; a failure shows up as a rejected command
  });
  await admin.connect();
  cleanups.push(() => admin.close());
  const info = await admin.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';

  const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port: server.port }, namespace: 'demo' });
  // Fail fast at start-up: connect() rejects with the reason (refused, wrong password, …) instead of
  // every call quietly going to the origin.
  await cache.connect();
  cleanups.push(() => cache.close());
  return {
    cache,
    banner: `redis (throwaway redis-server ${version} on 127.0.0.1:${server.port})`,
    redis: true,
    port: server.port,
    rawLabel: 'GET',
    ttlLabel: 'PTTL',
    raw: (key) => admin.get(key),
    pttl: async (key) => {
      const ms = await admin.pTTL(key);
      return ms === -2 ? undefined : ms === -1 ? Infinity : ms;
    },
    /** Data commands Redis has executed so far, by name (from INFO commandstats). */
    commandCounts: async () => {
      const counts = {};
      for (const [, name, calls] of (await admin.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
        if (['get', 'getex', 'set', 'del', 'expire', 'pexpire', 'persist'].includes(name)) counts[name] = Number(calls);
      }
      return counts;
    },
  };
}

function memoryStore(reason) {
  const cache = createCache({ store: { type: 'memory' }, namespace: 'demo' });
  cleanups.push(() => cache.close());
  return {
    cache,
    banner: `memory (${reason})`,
    redis: false,
    rawLabel: 'cache.store.get',
    ttlLabel: 'ttlOf',
    raw: async (key) => cache.store.get(key),
    pttl: async (key) => cache.store.ttlOf?.(key),
    commandCounts: undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// The walkthrough
// ---------------------------------------------------------------------------------------------

const clock = (iso) => iso.slice(11, 23); // 2026-01-01T12:34:56.789Z → 12:34:56.789
const fmtTtl = (ms) => (ms === undefined ? 'absent' : ms === Infinity ? 'no expiry' : `${Math.round(ms)} ms`);
const short = (text, max = 150) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

/** What one call did, read from the function's own stats (so the label is the library's account, not ours). */
async function traced(fn, call) {
  const before = { ...fn.stats };
  const value = await call();
  const after = fn.stats;
  const what = ['hits', 'stale', 'misses', 'bypasses', 'refreshes'].filter((k) => after[k] > before[k]);
  const label = { hits: 'hit', stale: 'stale', misses: 'miss', bypasses: 'bypass', refreshes: 'refresh' };
  return { value, outcome: what.map((k) => label[k]).join('+') || 'none' };
}

/** Print what is being called, then run it (origin output appears under it). */
function step(fn, label, call) {
  log(`   ${label}`);
  return traced(fn, call);
}

function statsLine(fn) {
  // l1Hits is always 0 here (no cache of this walkthrough has an in-process tier): left out.
  return Object.entries(fn.stats)
    .filter(([k]) => k !== 'l1Hits')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

async function walkthrough(store) {
  const { cache } = store;

  // --- 1. Example 1 of the article: get_user_data with bypass, invalidate, stats -------------
  let userFetches = 0;
  const getUserData = cached(
    async function getUserData(userId) {
      userFetches++;
      log(`     origin: fetching data for user ${userId} from source…`);
      await sleep(100);
      return { userId, name: `User ${userId}`, lastUpdated: new Date().toISOString() };
    },
    { cache, ttl: '10s' },
  );

  log("1. Miss, hit, bypass, invalidate: getUserData(userId), ttl '10s'");
  const key = getUserData.keyFor(101);
  log(`   keyFor(101) → ${key}`);

  const c1 = await step(getUserData, 'call 1: getUserData(101)', () => getUserData(101));
  log(`     → ${c1.outcome}  lastUpdated ${clock(c1.value.lastUpdated)}`);
  log(`     ${store.rawLabel} ${key} → ${short(String(await store.raw(key)))}`);
  log(`     ${store.ttlLabel} ${fmtTtl(await store.pttl(key))}`);

  const c2 = await step(getUserData, 'call 2: getUserData(101)', () => getUserData(101));
  log(`     → ${c2.outcome}  lastUpdated ${clock(c2.value.lastUpdated)}  same data? ${c2.value.lastUpdated === c1.value.lastUpdated}`);

  const fetchesBefore = userFetches;
  const c3 = await step(getUserData, 'call 3: getUserData(101, { bypassCache: true })', () => getUserData(101, { bypassCache: true }));
  // The envelope's header (s1|json|createdAt|ttl|stamps|) comes before the JSON.
  const storedAfterBypass = JSON.parse(String(await store.raw(key)).replace(/^(?:[^|]*\|){5}/, ''));
  log(`     → ${c3.outcome}  lastUpdated ${clock(c3.value.lastUpdated)}  fresh data? ${c3.value.lastUpdated !== c1.value.lastUpdated}  origin ran? ${userFetches > fetchesBefore}`);
  log(
    `     cache neither read nor written: the entry still holds ${clock(storedAfterBypass.lastUpdated)}` +
      ` (untouched? ${storedAfterBypass.lastUpdated === c1.value.lastUpdated})`,
  );
  log('     (the article made bypass_cache the same as force_refresh, which overwrote the entry;');
  log('      in cachette bypass goes around the cache: the one deliberate difference)');

  const c4 = await step(getUserData, 'call 4: getUserData(101)', () => getUserData(101));
  log(`     → ${c4.outcome}  lastUpdated ${clock(c4.value.lastUpdated)}  still the first value? ${c4.value.lastUpdated === c1.value.lastUpdated}`);

  const removed = await getUserData.invalidate(101);
  log(`   getUserData.invalidate(101) → ${removed}  (${store.rawLabel} now → ${String(await store.raw(key) ?? 'nothing')})`);

  const c5 = await step(getUserData, 'call 5: getUserData(101)', () => getUserData(101));
  log(`     → ${c5.outcome}  lastUpdated ${clock(c5.value.lastUpdated)}  fresh data? ${c5.value.lastUpdated !== c3.value.lastUpdated && c5.value.lastUpdated !== c1.value.lastUpdated}`);
  log();

  // --- 2. Versioned keys: the article's versioned_key_builder --------------------------------
  const getProductData = cached(
    async function getProductData(productId, version = 'v1') {
      log(`     origin: fetching product ${productId} (version ${version}) from source…`);
      await sleep(80);
      return { productId, name: `Product ${productId}`, version, timestamp: new Date().toISOString() };
    },
    { cache, ttl: '10s', keyBuilder: (productId, version = 'v1') => `product:${productId}:${version}` },
  );
  log('2. Versioned keys: getProductData(productId, version), keyBuilder → `product:${productId}:${version}`');
  const p1 = await step(getProductData, "first call: getProductData(201, 'v1')", () => getProductData(201, 'v1'));
  log(`     → ${p1.outcome}  version ${p1.value.version}  timestamp ${clock(p1.value.timestamp)}  keyFor → ${getProductData.keyFor(201, 'v1')}`);
  const p2 = await step(getProductData, "second call: getProductData(201, 'v1')", () => getProductData(201, 'v1'));
  log(`     → ${p2.outcome}  version ${p2.value.version}  timestamp ${clock(p2.value.timestamp)}  cache hit? ${p2.value.timestamp === p1.value.timestamp}`);
  const p3 = await step(getProductData, "call with v2: getProductData(201, 'v2')", () => getProductData(201, 'v2'));
  log(`     → ${p3.outcome}  version ${p3.value.version}  timestamp ${clock(p3.value.timestamp)}  keyFor → ${getProductData.keyFor(201, 'v2')}  fresh data? ${p3.value.timestamp !== p1.value.timestamp}`);
  const bumped = cached(getProductData.original, { cache, version: 2 });
  log(`   the version option versions every key of a function: cached(fn, { version: 2 }).keyFor(201) → ${bumped.keyFor(201)}`);
  log();

  // --- 3. TTL from the result ----------------------------------------------------------------
  const getUserSubscription = cached(
    async function getUserSubscription(userId) {
      log(`     origin: fetching subscription for user ${userId}…`);
      await sleep(60);
      const isPremium = userId % 3 === 0; // every third user is premium
      return { userId, isPremium, plan: isPremium ? 'premium' : 'basic', timestamp: new Date().toISOString() };
    },
    { cache, ttl: (subscription) => (subscription.isPremium ? '60s' : '20s') },
  );
  log("3. TTL from the result: getUserSubscription, ttl: (sub) => (sub.isPremium ? '60s' : '20s')");
  for (const userId of [101, 102]) {
    const s = await step(getUserSubscription, `getUserSubscription(${userId})`, () => getUserSubscription(userId));
    const expected = s.value.isPremium ? 60 : 20;
    log(`     → ${s.outcome}  plan ${s.value.plan}  ${store.ttlLabel} ${fmtTtl(await store.pttl(getUserSubscription.keyFor(userId)))} (expected ~${expected} s)`);
  }

  const getProductCatalog = cached(
    async function getProductCatalog(category, includeDetails = false) {
      log(`     origin: fetching catalog for ${category} (details: ${includeDetails})…`);
      await sleep(120);
      const count = ([...category].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % 10) + 2;
      const products = [];
      for (let i = 1; i <= count; i++) {
        const product = { id: i, name: `${category} Product ${i}` };
        if (includeDetails) {
          Object.assign(product, {
            description: `Detailed description for ${category} Product ${i}`,
            specifications: {
              weight: `${i * 0.5} kg`,
              dimensions: `${i * 5} x ${i * 3} x ${i * 2} cm`,
              colors: i % 2 ? ['red', 'blue', 'black'] : ['white', 'grey'],
            },
            features: Array.from({ length: (i % 5) + 2 }, (_, j) => `Feature ${j + 1}`),
          });
        }
        products.push(product);
      }
      return { category, productCount: products.length, products, timestamp: new Date().toISOString() };
    },
    { cache, ttl: complexityTtl },
  );
  log('   getProductCatalog, ttl: complexityTtl (20-60 s, longer for bigger results)');
  for (const [category, details] of [['Books', false], ['Electronics', true]]) {
    const c = await step(getProductCatalog, `getProductCatalog('${category}', ${details})`, () => getProductCatalog(category, details));
    const size = JSON.stringify(c.value).length;
    const pttl = await store.pttl(getProductCatalog.keyFor(category, details));
    log(`     → ${c.outcome}  ${c.value.productCount} products, JSON size ${size}, complexityTtl ${complexityTtl(c.value) / 1000} s, ${store.ttlLabel} ${fmtTtl(pttl)}`);
  }
  log();

  // --- 4. A per-call ttl extends a live entry ------------------------------------------------
  const getProduct = cached(
    async function getProduct(productId) {
      log(`     origin: fetching data for product ${productId}…`);
      await sleep(70);
      return { productId, name: `Product ${productId}`, price: 10 + (productId % 90), inStock: productId % 4 !== 0, timestamp: new Date().toISOString() };
    },
    { cache, ttl: '30s' },
  );
  log("4. A per-call ttl extends a live entry: getProduct(productId), ttl '30s'");
  const productKey = getProduct.keyFor(333);
  const g1 = await step(getProduct, 'getProduct(333)', () => getProduct(333));
  log(`     → ${g1.outcome}  ${store.ttlLabel} ${fmtTtl(await store.pttl(productKey))}`);
  await sleep(50); // let the entry age a little, so the extension is visible
  const ttlBefore = await store.pttl(productKey);
  const countsBefore = await store.commandCounts?.();
  const g2 = await step(getProduct, 'getProduct(333, { ttl: 60_000 })', () => getProduct(333, { ttl: 60_000 }));
  const countsAfter = await store.commandCounts?.();
  const ttlAfter = await store.pttl(productKey);
  log(`     → ${g2.outcome}  ${store.ttlLabel} ${fmtTtl(ttlBefore)} before, ${fmtTtl(ttlAfter)} after  same data? ${g2.value.timestamp === g1.value.timestamp}`);
  if (countsBefore && countsAfter) {
    const sent = Object.entries(countsAfter)
      .map(([name, calls]) => [name, calls - (countsBefore[name] ?? 0)])
      .filter(([, calls]) => calls > 0)
      .map(([name, calls]) => `${name.toUpperCase()} x${calls}`);
    log(`     commands the hit sent to Redis: ${sent.join(', ') || 'none'} (read and extension in one round trip)`);
  } else {
    log('     (memory store: the read and the extension are one getAndExpire call)');
  }
  log('     no need to sleep 35 s as the article does: the entry now outlives its original 30 s');
  log();

  // --- 5. forceRefresh -----------------------------------------------------------------------
  log('5. forceRefresh: no read, run the origin, store the fresh value');
  const r1 = await step(getUserData, 'getUserData(101, { forceRefresh: true })', () => getUserData(101, { forceRefresh: true }));
  log(`     → ${r1.outcome}  lastUpdated ${clock(r1.value.lastUpdated)}  fresh data? ${r1.value.lastUpdated !== c5.value.lastUpdated}`);
  const r2 = await step(getUserData, 'getUserData(101)', () => getUserData(101));
  log(`     → ${r2.outcome}  lastUpdated ${clock(r2.value.lastUpdated)}  the refreshed value? ${r2.value.lastUpdated === r1.value.lastUpdated}`);
  log();

  // --- 6. Stats (before section 7 adds a function) ---------------------------------------------
  log('6. Stats (fn.stats, live counters)');
  for (const fn of [getUserData, getProductData, getUserSubscription, getProductCatalog, getProduct]) {
    log(`   ${fn.name.padEnd(20)} ${statsLine(fn)}`);
  }
  log(`   getUserData origin runs: ${userFetches}`);
  log();

  // --- 7. Values keep their type -------------------------------------------------------------
  log('7. Values keep their type: a Date, a Set and a BigInt come back as themselves on a hit');
  const getOrder = cached(
    async function getOrder(id) {
      return { id, placedAt: new Date(Date.UTC(2026, 10, 29, 12, 0, 0)), tags: new Set(['gift', 'express']), cents: 1999n };
    },
    { cache, ttl: '1m' },
  );
  const o1 = await step(getOrder, 'getOrder(7)', () => getOrder(7));
  log(`     → ${o1.outcome}`);
  const o2 = await step(getOrder, 'getOrder(7)', () => getOrder(7));
  log(
    `     → ${o2.outcome}  placedAt is a Date? ${o2.value.placedAt instanceof Date}  tags is a Set? ${o2.value.tags instanceof Set}  cents is a bigint? ${typeof o2.value.cents === 'bigint'}`,
  );
  log(`     ${store.rawLabel} ${getOrder.keyFor(7)} → ${short(String(await store.raw(getOrder.keyFor(7))))}`);
  log();

  // --- 8. Tags and clearing ------------------------------------------------------------------
  log("8. Tags and clearing: getPrice(sku) tagged [`sku:${sku}`, 'prices'], staleWhileRevalidate '1m'");
  let priceRuns = 0;
  const getPrice = cached(
    async function getPrice(sku) {
      priceRuns++;
      return { sku, cents: 1000 + priceRuns };
    },
    { cache, ttl: '10m', staleWhileRevalidate: '1m', tags: (sku) => [`sku:${sku}`, 'prices'] },
  );
  await getPrice('a');
  await getPrice('b');
  log(`   getPrice('a'), getPrice('b') → ${priceRuns} origin runs; a hit now reads the entry and its tag records in one round trip`);
  await cache.invalidateTags(['sku:a']);
  const a1 = await step(getPrice, "after cache.invalidateTags(['sku:a']): getPrice('a')", () => getPrice('a'));
  const b1 = await step(getPrice, "getPrice('b')", () => getPrice('b'));
  log(`     → a: ${a1.outcome} (recomputed, cents ${a1.value.cents})  b: ${b1.outcome} (untouched, cents ${b1.value.cents})`);
  await cache.invalidateTags(['prices'], { stale: true });
  const b2 = await step(getPrice, "after cache.invalidateTags(['prices'], { stale: true }): getPrice('b')", () => getPrice('b'));
  log(`     → ${b2.outcome}: the old price at once (cents ${b2.value.cents}), while one refresh runs in the background`);
  // Bounded wait for the background refresh and its write.
  for (let i = 0; i < 300 && (priceRuns < 4 || cache.pendingWrites > 0); i++) await sleep(10);
  const b3 = await step(getPrice, "once the refresh has landed: getPrice('b')", () => getPrice('b'));
  log(`     → ${b3.outcome}: the refreshed price (cents ${b3.value.cents})`);
  await getPrice.clear();
  const a2 = await step(getPrice, "after getPrice.clear(): getPrice('a')", () => getPrice('a'));
  log(`     → ${a2.outcome}: every entry of getPrice was cleared, in every process (O(1): no KEYS, no SCAN)`);
  log(`   getPrice ${statsLine(getPrice)}`);
  log();

  // --- 9. Two tiers ----------------------------------------------------------------------------
  log("9. Two tiers: l1: { maxEntries: 1000 } holds decoded values in the process, dropped everywhere on a change");
  if (!store.redis) {
    log('   skipped: the in-process tier sits in front of Redis (it learns of changes through Redis client tracking)');
    return;
  }
  // Two caches on the same Redis stand for two processes: each has its own tier and its own
  // tracking connection.
  const tiered = () => createCache({ store: { type: 'redis', host: '127.0.0.1', port: store.port }, namespace: 'demo-l1', l1: { maxEntries: 1000 } });
  const [inA, inB] = [tiered(), tiered()];
  cleanups.push(() => inA.close(), () => inB.close()); // newest first: closed before redis-server stops
  await Promise.all([inA.connect(), inB.connect()]);
  for (let i = 0; i < 300 && (inA.health().l1.state !== 'ready' || inB.health().l1.state !== 'ready'); i++) await sleep(10);
  let stockRuns = 0;
  const loadStock = async (sku) => ({ sku, units: 10 * ++stockRuns });
  const stockA = cached(loadStock, { cache: inA, name: 'getStock', ttl: '1m' });
  const stockB = cached(loadStock, { cache: inB, name: 'getStock', ttl: '1m' });
  const tierLabel = (fn, before) => (fn.stats.l1Hits > before.l1Hits ? 'hit from the process (l1)' : fn.stats.hits > before.hits ? 'hit from Redis' : 'miss');
  const traceTier = async (fn, label, call) => {
    const before = { ...fn.stats };
    const value = await call();
    log(`   ${label} → ${tierLabel(fn, before)}  units ${value.units}`);
    return value;
  };
  await traceTier(stockA, "process A: getStock('x')", () => stockA('x'));
  await traceTier(stockB, "process B: getStock('x')", () => stockB('x'));
  await sleep(20); // A's write is announced to B's tracking connection; B's next read may be the one that fills
  let held;
  for (let i = 0; i < 100 && held === undefined; i++) {
    const before = { ...stockB.stats };
    const value = await stockB('x');
    if (stockB.stats.l1Hits > before.l1Hits) held = value;
  }
  log(`   process B: getStock('x') → hit from the process (l1)  units ${held.units}  (no round trip, no decoding)`);
  const refreshed = performance.now();
  await stockA.refresh('x');
  let waited = 0;
  while ((await stockB('x')).units === held.units && waited < 200) {
    waited++;
    await sleep(1);
  }
  const after = await traceTier(stockB, "after process A's stockA.refresh('x'): process B getStock('x')", () => stockB('x'));
  log(`     → B served the new value ${(performance.now() - refreshed).toFixed(1)} ms after A's refresh began (Redis announced the write; B dropped its copy); units now ${after.units}`);
  log(`   process B getStock ${statsLine(stockB)} l1Hits=${stockB.stats.l1Hits}`);
  log(`   inB.health().l1 → ${JSON.stringify(inB.health().l1)}`);
}

/** The article's complexity_based_ttl: 20-60 s, growing with the JSON size; in milliseconds. */
function complexityTtl(result) {
  if (!result) return 10_000;
  const size = JSON.stringify(result).length;
  return Math.max(20, Math.min(60, 20 + Math.floor(size / 20))) * 1000;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  const store = await openStore();
  log(`store: ${store.banner}`);
  log();
  await walkthrough(store);
  await cleanup();
  log();
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; cache closed${server ? ', redis-server stopped' : ''}`);
}

try {
  await main();
} catch (error) {
  console.error(`demo failed: ${error instanceof SetupError ? error.message : (error?.stack ?? error)}`);
  process.exitCode = 1;
  await cleanup();
}

// Everything is closed now, so Node exits by itself. If something still holds the event loop, say so
// instead of hanging (the timer is unref'd: it never keeps the process alive on its own).
setTimeout(() => {
  console.error('warning: an open handle kept the process alive after cleanup; exiting');
  process.exit(process.exitCode ?? 1);
}, 3_000).unref();
