// `npm run bench`: cachette beside the raw node-redis client (and, when installed, two peer
// libraries) on one throwaway local redis-server, in one run. See bench/README.md for the workload.
//
// Environment knobs (all optional):
//   BENCH_ROUND_MS     measured time per contestant in one round, ms, run as two halves (default 400)
//   BENCH_ROUNDS       measured rounds per scenario (default 12)
//   BENCH_WARMUP_MS    unmeasured warm-up per contestant and scenario, ms (default 300)
//   BENCH_SCENARIOS    comma list of scenario ids (or groups: `many`, `tags`, `cluster`, `memory`, `tier`, `l1`) to run, or of ids and
//                      groups to skip, each written with a leading '-' (`-cluster`); default: all but `codecs`, which
//                      runs only when named (bench/codecs.mjs: every serializer and compression, no Redis, about 3 min)
//   BENCH_CONTESTANTS  comma list of contestant ids to run (default: all that load)
//   BENCH_NO_TRAP=1    skip the "node-redis default command timeout" phase
//   BENCH_INVALIDATIONS  timed repetitions of each invalidation and first call in the tags phase (300)
//   BENCH_STRICT=1     exit 1 when a target is missed
//   BENCH_COMPARE      comma list of other cachette builds (their dist/esm/index.js): each is added
//                      as contestant 'cachette-b', 'cachette-c', … (to measure a change against
//                      this build in the same run)
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { cached, createCache } from 'cachette';
import { createClient, createCluster } from 'redis';
import { startCluster } from './cluster.mjs';
import { freePort } from './ports.mjs';
import { measureCodecs, renderCodecs } from './codecs.mjs';
import { measureL1Latency, renderL1Latency } from './l1-latency.mjs';
import { measureTier, renderTier, TIER_SCENARIOS } from './tier.mjs';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const ROUND_MS = positiveInt(process.env.BENCH_ROUND_MS, 400);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 12);
const WARMUP_MS = positiveInt(process.env.BENCH_WARMUP_MS, 300);
const ONLY_SCENARIOS = listEnv(process.env.BENCH_SCENARIOS);
const ONLY_CONTESTANTS = listEnv(process.env.BENCH_CONTESTANTS);
const STRICT = process.env.BENCH_STRICT === '1';
const TRAP = process.env.BENCH_NO_TRAP !== '1';
const COMPARE = process.env.BENCH_COMPARE;

/** Distinct keys the hit scenarios cycle through (all stored before measuring). */
const HOT_KEYS = 1000;
/** TTL of every stored entry, and the per-call TTL of the sliding scenarios. */
const TTL_MS = 600_000;
/** Calls per contestant when counting Redis commands. */
const COUNT_CALLS = 1000;
/** Flush the server between rounds once it holds more keys than this (misses create keys). */
const MAX_KEYS_BEFORE_FLUSH = 50_000;
const OUT_DIR = new URL('../.bench-tmp/', import.meta.url);

/** The lock's ttl in the hand-written lock (cachette's `lock: true` default). */
const LOCK_TTL_MS = 10_000;
/** Compare-and-delete, as cachette's Redis store sends it. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** The fair client settings: the same ones cachette uses for the client it creates. */
const FAIR_CLIENT_OPTIONS = { disableOfflineQueue: true, commandOptions: { timeout: 0 } };

const SCENARIOS = [
  { id: 'hit-seq', kind: 'hit', concurrency: 1, label: 'hit', target: 0.95 },
  { id: 'hit-64', kind: 'hit', concurrency: 64, label: 'hit', target: 0.9 },
  { id: 'ttl-hit-seq', kind: 'ttlHit', concurrency: 1, label: 'hit + per-call ttl (GETEX)', target: 0.9 },
  { id: 'ttl-hit-64', kind: 'ttlHit', concurrency: 64, label: 'hit + per-call ttl (GETEX)', target: 0.85 },
  { id: 'miss-seq', kind: 'miss', concurrency: 1, label: 'miss (GET + SET PX)', target: 0.85 },
  { id: 'miss-64', kind: 'miss', concurrency: 64, label: 'miss (GET + SET PX)', target: 0.85 },
  // The cross-process lock on (`lock: true`), uncontended: what the lock adds to every miss.
  { id: 'lock-miss-seq', kind: 'lockMiss', concurrency: 1, label: 'miss, lock on (+ SET NX, GET, EVALSHA)', target: undefined },
  { id: 'lock-miss-64', kind: 'lockMiss', concurrency: 64, label: 'miss, lock on (+ SET NX, GET, EVALSHA)', target: undefined },
].filter((s) => wanted(s.id));

/** `many()` against the same number of concurrent single calls, on the standalone server. */
const MANY_SCENARIOS = [
  { id: 'many-100', items: 100 },
  { id: 'many-1000', items: 1000 },
].filter((s) => wanted(s.id));

/** Tags and clearing on the standalone server: tagged against untagged hits, first calls, invalidation cost. */
const TAGS_SCENARIOS = [
  { id: 'tags-hit-seq', kind: 'hit', concurrency: 1 },
  { id: 'tags-hit-64', kind: 'hit', concurrency: 64 },
  { id: 'tags-first-call', kind: 'firstCall' },
  { id: 'tags-invalidate', kind: 'invalidate' },
].filter((s) => wanted(s.id));

/**
 * In-process caches, no Redis: hits of cachette's memory store beside p-memoize and a memoized async
 * function over lru-cache (the references an in-process cache is compared with).
 */
const MEMORY_SCENARIOS = [
  { id: 'memory-hit-seq', concurrency: 1 },
  { id: 'memory-hit-64', concurrency: 64 },
].filter((s) => wanted(s.id));

/** On a local 3-master cluster (started only when one of these runs). */
const CLUSTER_SCENARIOS = [
  { id: 'cluster-hit-seq', kind: 'hit', concurrency: 1, label: 'hit' },
  { id: 'cluster-hit-64', kind: 'hit', concurrency: 64, label: 'hit' },
  { id: 'cluster-miss-seq', kind: 'miss', concurrency: 1, label: 'miss (GET + SET PX)' },
  { id: 'cluster-miss-64', kind: 'miss', concurrency: 64, label: 'miss (GET + SET PX)' },
  { id: 'cluster-many-100', kind: 'many', concurrency: 1, label: 'many(100)', items: 100 },
  { id: 'cluster-tags-hit-seq', kind: 'tagHit', concurrency: 1, label: 'tagged hit' },
  { id: 'cluster-tags-hit-64', kind: 'tagHit', concurrency: 64, label: 'tagged hit' },
].filter((s) => wanted(s.id));

/** Hits from process memory: cachette's tier, bentocache L1+L2, p-memoize, lru-cache (bench/tier.mjs). */
const TIER = TIER_SCENARIOS.filter((s) => wanted(s.id));

/** Invalidation latency of the tier across 3 processes (bench/l1-latency.mjs), standalone and cluster. */
const L1_LATENCY = [
  { id: 'l1-latency', topology: 'standalone' },
  { id: 'l1-latency-cluster', topology: 'cluster' },
].filter((s) => wanted(s.id));

/** Batches counted for commands and round trips per call in the many() and cluster phases. */
const COUNT_BATCHES = 50;

/**
 * Whether scenario `id` runs: BENCH_SCENARIOS names ids and groups (the part of an id before its
 * first '-': `many`, `tags`, `cluster`) to run, or, each with a leading '-', ids and groups to skip.
 */
function wanted(id) {
  if (ONLY_SCENARIOS === undefined) return true;
  const group = id.split('-')[0];
  const skips = ONLY_SCENARIOS.filter((s) => s.startsWith('-')).map((s) => s.slice(1));
  if (skips.length === ONLY_SCENARIOS.length) return !skips.includes(id) && !skips.includes(group);
  return ONLY_SCENARIOS.includes(id) || ONLY_SCENARIOS.includes(group);
}

// ---------------------------------------------------------------------------------------------
// The workload: a ~200-byte JSON object, returned at once by the origin
// ---------------------------------------------------------------------------------------------

const PAD = 'x'.repeat(64);

/** A user record whose JSON is about 200 bytes. */
function makeUser(id) {
  return {
    id,
    name: `User ${id}`,
    email: `user${id}@example.com`,
    plan: id % 3 === 0 ? 'premium' : 'basic',
    active: true,
    roles: ['reader', 'editor'],
    createdAt: '2024-01-15T10:30:00.000Z',
    bio: PAD,
  };
}

/** The origin every contestant caches: answers immediately. */
async function origin(id) {
  return makeUser(id);
}

// ---------------------------------------------------------------------------------------------
// Throwaway redis-server
// ---------------------------------------------------------------------------------------------

let server;

function killServer() {
  if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
}

process.on('exit', killServer);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killServer();
    process.exit(130);
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(250, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function startServer() {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', os.tmpdir()],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    server = child;
    let failed;
    child.on('error', (error) => {
      failed = error;
    });
    child.stderr.resume();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && failed === undefined && child.exitCode === null) {
      if (await ping(port)) return port;
      await sleep(50);
    }
    killServer();
    if (failed?.code === 'ENOENT') throw new Error('redis-server not found on PATH (install it: apt-get install redis-server)');
    console.error(`redis-server did not answer on port ${port} (attempt ${attempt})`);
  }
  throw new Error('could not start redis-server');
}

// ---------------------------------------------------------------------------------------------
// Contestants: each offers an operation per scenario kind (or not)
// ---------------------------------------------------------------------------------------------

/** The official client, GET + JSON.parse; miss = GET + SET with PX. Fair client settings. */
async function rawContestant(port) {
  const client = createClient({ socket: { host: '127.0.0.1', port }, ...FAIR_CLIENT_OPTIONS });
  client.on('error', () => {});
  await client.connect();
  const hitKey = (i) => `raw:user:${i % HOT_KEYS}`;
  const seed = async () => {
    const multi = client.multi();
    for (let i = 0; i < HOT_KEYS; i++) multi.set(hitKey(i), JSON.stringify(makeUser(i)), { expiration: { type: 'PX', value: TTL_MS } });
    await multi.exec();
  };
  await seed();
  // The lock by hand, with the commands cachette sends: SET NX PX beside a second GET (one round
  // trip), the origin, SET PX, then compare-and-delete by EVALSHA.
  const releaseSha = await client.scriptLoad(RELEASE_SCRIPT);
  return {
    id: 'raw',
    title: 'raw node-redis',
    ops: {
      hit: async (i) => JSON.parse(await client.get(hitKey(i))),
      ttlHit: async (i) => JSON.parse(await client.getEx(hitKey(i), { type: 'PX', value: TTL_MS })),
      miss: async (n) => {
        const key = `raw:miss:${n}`;
        const stored = await client.get(key);
        if (stored !== null) return JSON.parse(stored);
        const value = await origin(n);
        await client.set(key, JSON.stringify(value), { expiration: { type: 'PX', value: TTL_MS } });
        return value;
      },
      lockMiss: async (n) => {
        const key = `raw:lock:${n}`;
        const stored = await client.get(key);
        if (stored !== null) return JSON.parse(stored);
        const lockKey = `${key}|lock`;
        const token = randomUUID();
        const [taken, again] = await Promise.all([
          client.set(lockKey, token, { condition: 'NX', expiration: { type: 'PX', value: LOCK_TTL_MS } }),
          client.get(key),
        ]);
        if (again !== null || taken === null) throw new Error('bench: a fresh key was locked or stored already');
        const value = await origin(n);
        await client.set(key, JSON.stringify(value), { expiration: { type: 'PX', value: TTL_MS } });
        await client.evalSha(releaseSha, { keys: [lockKey], arguments: [token] });
        return value;
      },
    },
    seed,
    close: () => client.close(),
  };
}

/** The same raw workload on a client with node-redis 6 defaults (5 s per-command timeout). */
async function rawDefaultContestant(port) {
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  client.on('error', () => {});
  await client.connect();
  const hitKey = (i) => `raw:user:${i % HOT_KEYS}`;
  return {
    id: 'raw-default',
    title: 'raw node-redis, default client options',
    ops: { hit: async (i) => JSON.parse(await client.get(hitKey(i))) },
    seed: async () => {},
    close: () => client.close(),
  };
}

/** cachette on the client it creates itself. */
async function cachetteContestant(port, lib = { cached, createCache }, id = 'cachette', title = 'cachette') {
  const { cached, createCache } = lib;
  const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port }, namespace: id });
  const getUser = cached(origin, { cache, name: 'user', ttl: TTL_MS });
  const getFresh = cached(origin, { cache, name: 'miss', ttl: TTL_MS });
  let getLocked;
  try {
    getLocked = cached(origin, { cache, name: 'lock', ttl: TTL_MS, lock: true });
  } catch {
    getLocked = undefined; // a BENCH_COMPARE build from before the lock
  }
  const seed = async () => {
    for (let i = 0; i < HOT_KEYS; i++) await getUser(i);
  };
  await seed();
  return {
    id,
    title,
    ops: {
      hit: (i) => getUser(i % HOT_KEYS),
      ttlHit: (i) => getUser(i % HOT_KEYS, { ttl: TTL_MS }),
      miss: (n) => getFresh(n),
      ...(getLocked ? { lockMiss: (n) => getLocked(n) } : {}),
    },
    seed,
    check: () => ({
      hits: getUser.stats.hits,
      misses: getUser.stats.misses + getFresh.stats.misses + (getLocked?.stats.misses ?? 0),
      errors: getUser.stats.errors + getFresh.stats.errors + (getLocked?.stats.errors ?? 0),
      lockWaits: getLocked?.stats.lockWaits ?? 0,
    }),
    close: () => cache.close(),
  };
}

/** @epic-web/cachified 5 over a node-redis 6 client (fair settings) through a small adapter. */
async function cachifiedContestant(port) {
  let cachified;
  try {
    ({ cachified } = await import('@epic-web/cachified'));
  } catch {
    return undefined;
  }
  const client = createClient({ socket: { host: '127.0.0.1', port }, ...FAIR_CLIENT_OPTIONS });
  client.on('error', () => {});
  await client.connect();
  // cachified's Cache interface: entries are { value, metadata: { createdTime, ttl, swr } }.
  const adapter = {
    name: 'bench node-redis adapter',
    async get(key) {
      const stored = await client.get(key);
      return stored === null ? null : JSON.parse(stored);
    },
    async set(key, entry) {
      const { createdTime, ttl, swr } = entry.metadata;
      const life = (ttl ?? Infinity) + (swr ?? 0);
      const text = JSON.stringify(entry);
      if (!Number.isFinite(life)) return client.set(key, text);
      const remaining = Math.max(1, Math.ceil(createdTime + life - Date.now()));
      return client.set(key, text, { expiration: { type: 'PX', value: remaining } });
    },
    delete: (key) => client.del(key),
  };
  const call = (prefix, id) => cachified({ key: `cachified:${prefix}:${id}`, cache: adapter, ttl: TTL_MS, getFreshValue: () => origin(id) });
  const seed = async () => {
    for (let i = 0; i < HOT_KEYS; i++) await call('user', i);
  };
  await seed();
  return {
    id: 'cachified',
    title: '@epic-web/cachified 5',
    ops: { hit: (i) => call('user', i % HOT_KEYS), miss: (n) => call('miss', n) },
    seed,
    close: () => client.close(),
  };
}

/** cache-manager 7 over Keyv and @keyv/redis (its own node-redis 5 client, as shipped). */
async function cacheManagerContestant(port) {
  let createCacheManager, createKeyv;
  try {
    ({ createCache: createCacheManager } = await import('cache-manager'));
    ({ createKeyv } = await import('@keyv/redis'));
  } catch {
    return undefined;
  }
  const keyv = createKeyv(`redis://127.0.0.1:${port}`);
  const manager = createCacheManager({ stores: [keyv] });
  const call = (prefix, id) => manager.wrap(`${prefix}:${id}`, () => origin(id), TTL_MS);
  const seed = async () => {
    for (let i = 0; i < HOT_KEYS; i++) await call('user', i);
  };
  await seed();
  return {
    id: 'cache-manager',
    title: 'cache-manager 7 + @keyv/redis',
    ops: { hit: (i) => call('user', i % HOT_KEYS), miss: (n) => call('miss', n) },
    seed,
    close: () => manager.disconnect(),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/** A counter shared by every miss operation, so each miss uses a key never used before. */
let missSequence = 0;
/** Scenario kinds whose calls must each use a key never used before. */
const freshKeys = (kind) => kind === 'miss' || kind === 'lockMiss';

/**
 * Run `op` with `concurrency` calls in flight for `ms`: operations completed, seconds taken, and the
 * CPU time this process used meanwhile (user + system, all threads; redis-server not included).
 */
async function measure(op, kind, concurrency, ms) {
  let done = 0;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const i = freshKeys(kind) ? missSequence++ : next++;
      await op(i);
      done++;
    }
  };
  const workers = [];
  for (let w = 0; w < concurrency; w++) workers.push(worker());
  await Promise.all(workers);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { ops: done, seconds, cpuMicros: cpu.user + cpu.system };
}

/** Redis commands sent per call, from INFO commandstats around `calls` sequential calls. */
async function countCommands(admin, op, kind, calls) {
  // One call first, not counted: a function's first call in a process also loads its clear generations.
  await op(freshKeys(kind) ? missSequence++ : 0);
  await admin.configResetStat();
  for (let c = 0; c < calls; c++) await op(freshKeys(kind) ? missSequence++ : c);
  const info = await admin.info('commandstats');
  const perCommand = {};
  let total = 0;
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (!match) continue;
    const name = match[1];
    if (name === 'info' || name.startsWith('config')) continue; // the counting itself
    perCommand[name] = Number(match[2]) / calls;
    total += Number(match[2]);
  }
  return { perCall: total / calls, perCommand };
}

async function keepKeyspaceSmall(admin, contestants) {
  if ((await admin.dbSize()) <= MAX_KEYS_BEFORE_FLUSH) return;
  await admin.flushAll();
  for (const c of contestants) await c.seed();
}

function rate({ ops, seconds }) {
  return ops / seconds;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = new Date();
  const port = await startServer();
  const admin = createClient({ socket: { host: '127.0.0.1', port }, ...FAIR_CLIENT_OPTIONS });
  admin.on('error', () => {});
  await admin.connect();
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';

  const revision = gitRevision();
  const machine = {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    redis: redisVersion,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    revision,
  };
  console.log(`# cachette benchmark (${startedAt.toISOString()})`);
  console.log(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, redis ${machine.redis}, ${machine.platform}, load ${machine.loadAverage}`,
  );
  console.log(`cachette build: ${revision}`);
  console.log(`redis-server on 127.0.0.1:${port}; ${ROUNDS} rounds of ${ROUND_MS} ms per contestant and scenario, ${WARMUP_MS} ms warm-up\n`);

  const loaders = [rawContestant, cachetteContestant, cachifiedContestant, cacheManagerContestant];
  for (const [index, file] of (COMPARE ? COMPARE.split(',') : []).entries()) {
    const other = await import(pathToFileURL(path.resolve(file)).href);
    const id = `cachette-${String.fromCharCode(98 + index)}`;
    loaders.splice(2 + index, 0, function compareContestant(p) {
      return cachetteContestant(p, other, id, `${id} (${file})`);
    });
  }
  const contestants = [];
  const skipped = [];
  for (const load of loaders) {
    const c = await load(port);
    if (c === undefined) {
      skipped.push(load.name.replace('Contestant', ''));
      continue;
    }
    if (ONLY_CONTESTANTS !== undefined && !ONLY_CONTESTANTS.includes(c.id)) {
      await c.close();
      continue;
    }
    contestants.push(c);
  }
  if (skipped.length > 0) console.log(`skipped (not installed): ${skipped.join(', ')}\n`);

  // Commands per call, before timing anything.
  const commands = {};
  for (const c of contestants) {
    commands[c.id] = {};
    for (const kind of ['hit', 'ttlHit', 'miss', 'lockMiss']) {
      if (c.ops[kind]) commands[c.id][kind] = await countCommands(admin, c.ops[kind], kind, COUNT_CALLS);
    }
  }

  const results = [];
  for (const scenario of SCENARIOS) {
    const field = scenario.kind;
    const here = contestants.filter((c) => c.ops[field] !== undefined);
    if (here.length === 0) continue;
    process.stdout.write(`${scenario.id}: warm-up`);
    await keepKeyspaceSmall(admin, contestants);
    for (const c of here) await measure(c.ops[field], field, scenario.concurrency, WARMUP_MS);
    const rounds = Object.fromEntries(here.map((c) => [c.id, []]));
    const cpuPerOp = Object.fromEntries(here.map((c) => [c.id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      await keepKeyspaceSmall(admin, contestants);
      // Each contestant runs two half-rounds in mirrored order (A B C C B A), and the order is
      // rotated between rounds: slow drifts in machine load fall on every contestant alike.
      const shift = r % here.length;
      const order = [...here.slice(shift), ...here.slice(0, shift)];
      const totals = new Map(here.map((c) => [c.id, { ops: 0, seconds: 0, cpuMicros: 0 }]));
      for (const c of [...order, ...[...order].reverse()]) {
        const { ops, seconds, cpuMicros } = await measure(c.ops[field], field, scenario.concurrency, ROUND_MS / 2);
        const t = totals.get(c.id);
        t.ops += ops;
        t.seconds += seconds;
        t.cpuMicros += cpuMicros;
      }
      for (const c of here) {
        const t = totals.get(c.id);
        rounds[c.id].push(t.ops / t.seconds);
        cpuPerOp[c.id].push(t.cpuMicros / t.ops);
      }
      process.stdout.write(` ${r + 1}`);
    }
    process.stdout.write('\n');
    const row = { ...scenario, contestants: {} };
    for (const c of here) {
      const perRound = rounds[c.id];
      const ratios = rounds.raw ? perRound.map((v, r) => v / rounds.raw[r]) : undefined;
      row.contestants[c.id] = {
        medianOps: median(perRound),
        cpuMicrosPerOp: median(cpuPerOp[c.id]),
        rounds: perRound.map(Math.round),
        ratioToRaw: ratios ? median(ratios) : undefined,
        roundRatios: ratios?.map((x) => Number(x.toFixed(3))),
      };
    }
    results.push(row);
  }

  // many() against single calls, on the standalone server (before the default-timeout phase, whose
  // timers would outlive it).
  const many = MANY_SCENARIOS.length > 0 ? await measureMany(port, admin) : undefined;

  // Tags and clearing, on the standalone server.
  const tags = TAGS_SCENARIOS.length > 0 ? await measureTags(port, admin) : undefined;

  // In-process hits (no Redis involved).
  const memory = MEMORY_SCENARIOS.length > 0 ? await measureMemory() : undefined;

  // Hits from process memory: the tier beside bentocache L1+L2 and the in-process references.
  const tier = TIER.length > 0
    ? await measureTier({ port, scenarios: TIER, pairedRounds, pairedRatio, origin, hotKeys: HOT_KEYS, ttlMs: TTL_MS })
    : undefined;

  // The node-redis 6 default per-command timeout, measured on its own (its 5 s AbortSignal timers
  // outlive each round and would slow whatever runs next, so it never shares a round).
  let trap;
  if (TRAP && contestants.some((c) => c.id === 'raw') && (ONLY_CONTESTANTS === undefined || ONLY_CONTESTANTS.includes('raw-default'))) {
    const rawFair = contestants.find((c) => c.id === 'raw');
    const rawDefault = await rawDefaultContestant(port);
    trap = [];
    process.stdout.write('trap (node-redis default command timeout):');
    for (const concurrency of [1, 64]) {
      const fair = [];
      const deflt = [];
      await measure(rawFair.ops.hit, 'hit', concurrency, WARMUP_MS);
      for (let r = 0; r < 3; r++) fair.push(rate(await measure(rawFair.ops.hit, 'hit', concurrency, ROUND_MS)));
      await measure(rawDefault.ops.hit, 'hit', concurrency, WARMUP_MS);
      for (let r = 0; r < 3; r++) deflt.push(rate(await measure(rawDefault.ops.hit, 'hit', concurrency, ROUND_MS)));
      trap.push({ concurrency, fairOps: median(fair), defaultOps: median(deflt), ratio: median(deflt) / median(fair) });
      process.stdout.write(` ${concurrency}`);
    }
    process.stdout.write('\n');
    await rawDefault.close();
  }

  // Redis down: what fail-open costs per call (runs last, on a port nothing listens on).
  let down;
  if (wanted('redis-down')) down = await measureRedisDown();

  const stats = contestants.find((c) => c.id === 'cachette')?.check?.();
  for (const c of contestants) await c.close();
  await admin.close();
  killServer();

  // The cluster last, once the standalone server is gone.
  const cluster = CLUSTER_SCENARIOS.length > 0 ? await measureCluster() : undefined;

  // The tier's invalidation latency across 3 processes, on servers of its own.
  const l1Latency = [];
  for (const { topology } of L1_LATENCY) l1Latency.push(await measureL1Latency({ topology }));

  // Serializers and compression, on this build's modules (no Redis): only when named.
  const codecs = ONLY_SCENARIOS?.includes('codecs') ? await measureCodecs(new URL('../dist/esm/', import.meta.url).pathname) : undefined;

  const report = renderReport({ machine, startedAt, port, results, commands, contestants, trap, stats });
  if (down !== undefined) report.text += '\n\n' + renderRedisDown(down);
  if (many !== undefined) report.text += '\n\n' + renderMany(many);
  if (tags !== undefined) report.text += '\n\n' + renderTags(tags);
  if (memory !== undefined) report.text += '\n\n' + renderMemory(memory);
  if (cluster !== undefined) report.text += '\n\n' + renderCluster(cluster);
  if (tier !== undefined) report.text += '\n\n' + renderTier(tier);
  if (l1Latency.length > 0) report.text += '\n\n' + renderL1Latency(l1Latency);
  if (codecs !== undefined) report.text += '\n\n## Serializers and compression\n\n' + renderCodecs(codecs);
  console.log('\n' + report.text);
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(new URL('results.md', OUT_DIR), report.text + '\n');
  await writeFile(
    new URL('results.json', OUT_DIR),
    JSON.stringify({ startedAt, machine, settings: { ROUND_MS, ROUNDS, WARMUP_MS, HOT_KEYS, TTL_MS }, commands, results, trap, down, many, tags, memory, cluster, tier, l1Latency, codecs, cachetteStats: stats }, null, 2) + '\n',
  );
  console.log(`(also written to .bench-tmp/results.md and .bench-tmp/results.json)`);
  const phaseErrors = (many?.stats.errors ?? 0) + (tags?.stats.errors ?? 0) + (tags?.firstCalls?.served ?? 0) + (tags?.invalidation?.servedAfter ?? 0) + (cluster?.stats.errors ?? 0) + l1Latency.reduce((sum, run) => sum + run.staleAfterTold + run.regressions, 0);
  if (STRICT && (report.missed > 0 || phaseErrors > 0)) process.exitCode = 1;
}

/**
 * Warm-up, then ROUNDS rounds of `contenders` ({ id, op }) in mirrored, rotated order, as the main
 * scenarios run: per contender the median ops/s, the median CPU µs per op and the per-round ops/s.
 */
async function pairedRounds(contenders, kind, concurrency) {
  for (const c of contenders) await measure(c.op, kind, concurrency, WARMUP_MS);
  const out = Object.fromEntries(contenders.map((c) => [c.id, { perRound: [], cpu: [] }]));
  for (let r = 0; r < ROUNDS; r++) {
    const shift = r % contenders.length;
    const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
    const totals = new Map(contenders.map((c) => [c.id, { ops: 0, seconds: 0, cpuMicros: 0 }]));
    for (const c of [...order, ...[...order].reverse()]) {
      const m = await measure(c.op, kind, concurrency, ROUND_MS / 2);
      const t = totals.get(c.id);
      t.ops += m.ops;
      t.seconds += m.seconds;
      t.cpuMicros += m.cpuMicros;
    }
    for (const c of contenders) {
      const t = totals.get(c.id);
      out[c.id].perRound.push(t.ops / t.seconds);
      out[c.id].cpu.push(t.cpuMicros / t.ops);
    }
    process.stdout.write(` ${r + 1}`);
  }
  for (const c of contenders) {
    const o = out[c.id];
    o.medianOps = median(o.perRound);
    o.cpuMicrosPerOp = median(o.cpu);
    o.perRound = o.perRound.map(Math.round);
    delete o.cpu;
  }
  return out;
}

/** Median of the per-round ratios of `a` to `b` (both from one pairedRounds result). */
function pairedRatio(a, b) {
  return median(a.perRound.map((v, r) => v / b.perRound[r]));
}

/**
 * Redis commands and round trips of `calls` sequential calls of `op`, summed over `admins` (one plain
 * client per server, or per cluster master): CONFIG RESETSTAT on each, the calls, then one INFO per
 * server. A round trip is one read from a client socket (`total_reads_processed`); the INFO's own read
 * and the replicas' `REPLCONF ACK`s (a master counts those as reads too) are taken off.
 */
async function countTraffic(admins, op, kind, calls) {
  for (const admin of admins) await admin.configResetStat();
  for (let c = 0; c < calls; c++) await op(freshKeys(kind) ? missSequence++ : c);
  const perCommand = {};
  let commands = 0;
  let reads = 0;
  for (const admin of admins) {
    const info = String(await admin.sendCommand(['INFO', 'stats', 'commandstats']));
    reads += Number(/^total_reads_processed:(\d+)/m.exec(info)?.[1] ?? NaN) - 1;
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const [, name, n] = match;
      if (name === 'replconf') reads -= Number(n);
      if (name === 'info' || name === 'replconf' || name.startsWith('config')) continue;
      perCommand[name] = (perCommand[name] ?? 0) + Number(n);
      commands += Number(n);
    }
  }
  return { commands, reads, perCommand, calls };
}

/**
 * `many(N)` of hits against N concurrent single calls, cachette and the raw client side by side on
 * the standalone server: raw `MGET` + `JSON.parse` per item, raw N concurrent `GET`s, cachette
 * `getUser.many(N argument lists)`, cachette N concurrent `getUser(id)`. One call = one batch of N.
 */
async function measureMany(port, admin) {
  const client = createClient({ socket: { host: '127.0.0.1', port }, ...FAIR_CLIENT_OPTIONS });
  client.on('error', () => {});
  await client.connect();
  const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port }, namespace: 'many' });
  const getUser = cached(origin, { cache, name: 'user', ttl: TTL_MS });
  const rawKey = (i) => `many:raw:user:${i}`;
  const multi = client.multi();
  for (let i = 0; i < HOT_KEYS; i++) multi.set(rawKey(i), JSON.stringify(makeUser(i)), { expiration: { type: 'PX', value: TTL_MS } });
  await multi.exec();
  await getUser.many(Array.from({ length: HOT_KEYS }, (_, i) => [i]));
  const rows = [];
  for (const scenario of MANY_SCENARIOS) {
    const n = scenario.items;
    // The batches, built once: batch b holds ids b*n … b*n+n-1 (modulo the hot keys).
    const count = Math.max(1, HOT_KEYS / n);
    const ids = Array.from({ length: count }, (_, b) => Array.from({ length: n }, (_, j) => (b * n + j) % HOT_KEYS));
    const keys = ids.map((list) => list.map(rawKey));
    const argsLists = ids.map((list) => list.map((id) => [id]));
    const contenders = [
      { id: 'rawMget', op: async (i) => (await client.mGet(keys[i % count])).map((text) => JSON.parse(text)) },
      { id: 'rawSingles', op: (i) => Promise.all(keys[i % count].map(async (key) => JSON.parse(await client.get(key)))) },
      { id: 'many', op: (i) => getUser.many(argsLists[i % count]) },
      { id: 'singles', op: (i) => Promise.all(ids[i % count].map((id) => getUser(id))) },
    ];
    const traffic = {};
    for (const c of contenders) traffic[c.id] = await countTraffic([admin], c.op, 'hit', COUNT_BATCHES);
    process.stdout.write(`${scenario.id}:`);
    const measured = await pairedRounds(contenders, 'hit', 1);
    process.stdout.write('\n');
    rows.push({ ...scenario, traffic, measured });
  }
  const stats = { ...getUser.stats };
  await cache.close();
  await client.close();
  return { rows, stats };
}

function renderMany(many) {
  const titles = {
    rawMget: 'raw node-redis `MGET` + `JSON.parse`',
    rawSingles: 'raw node-redis, {n} concurrent `GET`',
    many: 'cachette `f.many({n})`',
    singles: 'cachette, {n} concurrent `f(id)`',
  };
  const lines = [
    `\`many()\` of hits against the same number of concurrent single calls, standalone, one batch at a time (${ROUNDS} rounds; items/s: median over rounds; ratios: median of the per-round ratios). Commands per item and round trips per call: INFO commandstats and total_reads_processed over ${COUNT_BATCHES} sequential batches.`,
    '',
    '| N | contender | items/s | / raw `MGET` | / raw N × `GET` | CPU µs per item | Redis commands per item | round trips per call |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of many.rows) {
    const m = row.measured;
    for (const id of ['rawMget', 'rawSingles', 'many', 'singles']) {
      const t = row.traffic[id];
      const names = Object.entries(t.perCommand)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name]) => name.toUpperCase())
        .join(' + ');
      lines.push(
        `| ${row.items} | ${titles[id].replace('{n}', String(row.items))} | ${Math.round(m[id].medianOps * row.items).toLocaleString('en-US')} | ${pairedRatio(m[id], m.rawMget).toFixed(2)}× | ${pairedRatio(m[id], m.rawSingles).toFixed(2)}× | ${(m[id].cpuMicrosPerOp / row.items).toFixed(2)} | ${(t.commands / (t.calls * row.items)).toFixed(3)} (${names}) | ${(t.reads / t.calls).toFixed(2)} |`,
      );
    }
  }
  lines.push('');
  for (const row of many.rows) {
    lines.push(`cachette \`many(${row.items})\` / ${row.items} concurrent single calls, items/s: ${pairedRatio(row.measured.many, row.measured.singles).toFixed(2)}× (median of the per-round ratios)  `);
  }
  lines.push('', `cachette stats over the many() phase: ${many.stats.hits} hits, ${many.stats.misses} misses, ${many.stats.errors} errors`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// In-process hits: cachette's memory store beside p-memoize and lru-cache
// ---------------------------------------------------------------------------------------------

/**
 * Hits of `getUser(id)` on `store: { type: 'memory' }` (each hit a copy of its own: the default)
 * beside p-memoize 9 (`pMemoize(origin)`: a Map keyed by the first argument) and an async function
 * memoized by hand over an `LRUCache` (`max` 10,000, the same ttl), both of which hand every caller
 * the same object. p-memoize is a devDependency for this reference only; without it the rows say so.
 */
async function measureMemory() {
  const { LRUCache } = await import('lru-cache');
  let pMemoize;
  try {
    pMemoize = (await import('p-memoize')).default;
  } catch {
    pMemoize = undefined;
  }
  const cache = createCache({ store: { type: 'memory', maxEntries: 10_000 }, namespace: 'mem' });
  const getUser = cached(origin, { cache, name: 'user', ttl: TTL_MS });
  const lru = new LRUCache({ max: 10_000, ttl: TTL_MS });
  const lruMemo = async (id) => {
    const hit = lru.get(id);
    if (hit !== undefined) return hit;
    const value = await origin(id);
    lru.set(id, value);
    return value;
  };
  const contenders = [
    ...(pMemoize === undefined ? [] : [{ id: 'pMemoize', fn: pMemoize(origin) }]),
    { id: 'lruCache', fn: lruMemo },
    { id: 'cachette', fn: getUser },
  ];
  // BENCH_COMPARE builds, each with a memory store of its own, as in the main phase.
  const others = [];
  for (const [index, file] of (COMPARE ? COMPARE.split(',') : []).entries()) {
    const other = await import(pathToFileURL(path.resolve(file)).href);
    const id = `cachette-${String.fromCharCode(98 + index)}`;
    const otherCache = other.createCache({ store: { type: 'memory', maxEntries: 10_000 }, namespace: 'mem' });
    others.push({ id, title: `${id} (${file})`, cache: otherCache });
    contenders.push({ id, fn: other.cached(origin, { cache: otherCache, name: 'user', ttl: TTL_MS }) });
  }
  for (const c of contenders) c.op = (i) => c.fn(i % HOT_KEYS);
  for (const c of contenders) for (let i = 0; i < HOT_KEYS; i++) await c.fn(i);
  const rows = [];
  for (const scenario of MEMORY_SCENARIOS) {
    process.stdout.write(`${scenario.id}:`);
    const measured = await pairedRounds(contenders, 'hit', scenario.concurrency);
    process.stdout.write('\n');
    rows.push({ ...scenario, measured });
  }
  const stats = { ...getUser.stats };
  await cache.close();
  for (const o of others) await o.cache.close();
  return { rows, stats, pMemoize: pMemoize !== undefined, others: others.map((o) => ({ id: o.id, title: o.title })) };
}

function renderMemory(memory) {
  const titles = {
    pMemoize: 'p-memoize 9',
    lruCache: 'lru-cache 11, memoized by hand',
    cachette: "cachette, `store: { type: 'memory' }`",
  };
  const lines = [
    `Memory store hits beside in-process references, no Redis (${ROUNDS} rounds; ops/s: median over rounds; ratios: median of the per-round ratios). cachette hands each hit a copy of its own; p-memoize and lru-cache hand every caller the same object.`,
    '',
    '| in flight | contender | ops/s | / p-memoize | / lru-cache | CPU µs per hit |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const other of memory.others) titles[other.id] = other.title;
  for (const row of memory.rows) {
    const m = row.measured;
    for (const id of ['pMemoize', 'lruCache', 'cachette', ...memory.others.map((o) => o.id)]) {
      if (m[id] === undefined) continue;
      const toPm = m.pMemoize === undefined ? 'n/a' : `${pairedRatio(m[id], m.pMemoize).toFixed(2)}×`;
      lines.push(
        `| ${row.concurrency} | ${titles[id]} | ${Math.round(m[id].medianOps).toLocaleString('en-US')} | ${toPm} | ${pairedRatio(m[id], m.lruCache).toFixed(2)}× | ${m[id].cpuMicrosPerOp.toFixed(2)} |`,
      );
    }
  }
  lines.push('');
  if (!memory.pMemoize) lines.push('p-memoize is not installed (`npm install`): no ratios to it.  ');
  for (const row of memory.rows) {
    if (row.measured.pMemoize !== undefined) {
      lines.push(`memory store hit / p-memoize, ${row.concurrency} in flight: ${pairedRatio(row.measured.cachette, row.measured.pMemoize).toFixed(2)}× (target ≥ 0.50×)  `);
    }
  }
  lines.push('', `cachette stats over the memory phase: ${memory.stats.hits} hits, ${memory.stats.misses} misses, ${memory.stats.errors} errors`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Tags and clearing (standalone)
// ---------------------------------------------------------------------------------------------

/** The tags of the tagged hit scenarios: one tag, or three (a group tag, the record's own, its plan). */
const oneTag = (id) => [`user:${id}`];
const threeTags = (id) => ['users', `user:${id}`, `plan:${id % 3}`];

/** Entries a tag covers in the invalidation-cost phase (populated with many(), 1,000 a batch). */
const COVER_SIZES = [10, 1000, 100_000];
/** Timed repetitions of each invalidation and of each first call after one. */
const INVALIDATIONS = positiveInt(process.env.BENCH_INVALIDATIONS, 300);

/**
 * Tagged hits against untagged hits of the same origin and values, the raw client's GET as the
 * reference (1 and 64 in flight); the first call after an invalidation; and what one invalidation
 * costs when its tag covers 10, 1,000 and 100,000 entries, beside f.clear() and cache.clear().
 */
async function measureTags(port, admin) {
  const client = createClient({ socket: { host: '127.0.0.1', port }, ...FAIR_CLIENT_OPTIONS });
  client.on('error', () => {});
  await client.connect();
  const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port }, namespace: 'tags' });
  const untagged = cached(origin, { cache, name: 'untagged', ttl: TTL_MS });
  const tagged1 = cached(origin, { cache, name: 'tagged1', ttl: TTL_MS, tags: oneTag });
  const tagged3 = cached(origin, { cache, name: 'tagged3', ttl: TTL_MS, tags: threeTags });
  const rawKey = (i) => `tags:raw:user:${i % HOT_KEYS}`;
  const seed = async () => {
    const multi = client.multi();
    for (let i = 0; i < HOT_KEYS; i++) multi.set(rawKey(i), JSON.stringify(makeUser(i)), { expiration: { type: 'PX', value: TTL_MS } });
    await multi.exec();
    for (let i = 0; i < HOT_KEYS; i++) await Promise.all([untagged(i), tagged1(i), tagged3(i)]);
  };
  await seed();
  const out = { hits: [], firstCalls: undefined, invalidation: undefined };
  const contenders = [
    { id: 'raw', op: async (i) => JSON.parse(await client.get(rawKey(i))) },
    // What a tagged hit sends, by hand: the GET and an MGET of the tag records in one tick.
    {
      id: 'rawPair',
      op: async (i) => {
        const [text] = await Promise.all([client.get(rawKey(i)), client.mGet(oneTag(i % HOT_KEYS).map((tag) => `tags:tag|${tag}`))]);
        return JSON.parse(text);
      },
    },
    { id: 'untagged', op: (i) => untagged(i % HOT_KEYS) },
    { id: 'tagged1', op: (i) => tagged1(i % HOT_KEYS) },
    { id: 'tagged3', op: (i) => tagged3(i % HOT_KEYS) },
  ];
  for (const scenario of TAGS_SCENARIOS.filter((s) => s.kind === 'hit')) {
    const traffic = {};
    for (const c of contenders) traffic[c.id] = await countTraffic([admin], c.op, 'hit', COUNT_CALLS);
    process.stdout.write(`${scenario.id}:`);
    const measured = await pairedRounds(contenders, 'hit', scenario.concurrency);
    process.stdout.write('\n');
    out.hits.push({ ...scenario, traffic, measured });
  }
  const before = { hits: tagged1.stats.hits + tagged3.stats.hits + untagged.stats.hits, misses: tagged1.stats.misses + tagged3.stats.misses + untagged.stats.misses };
  if (wanted('tags-first-call')) out.firstCalls = await measureFirstCalls(admin, cache);
  if (wanted('tags-invalidate')) out.invalidation = await measureInvalidation(admin, port);
  const all = [untagged, tagged1, tagged3];
  out.stats = { hits: before.hits, misses: before.misses, errors: all.reduce((n, f) => n + f.stats.errors, 0) + (out.firstCalls?.errors ?? 0) + (out.invalidation?.errors ?? 0) };
  await cache.close();
  await client.close();
  return out;
}

/**
 * Commands, round trips and time of one call of `call(n)` right after `prepare(n)` (not counted,
 * not timed), `INVALIDATIONS` times, the kinds interleaved so load drift falls on each alike.
 */
async function measureFirstCalls(admin, cache) {
  process.stdout.write('tags-first-call:');
  const untagged = cached(origin, { cache, name: 'first-untagged', ttl: TTL_MS });
  const shared = cached(origin, { cache, name: 'first-shared', ttl: TTL_MS, tags: () => ['first:shared'] });
  const fresh = cached(origin, { cache, name: 'first-fresh', ttl: TTL_MS, tags: (id) => [`first:new:${id}`] });
  const flipped = cached(origin, { cache, name: 'first-flip', ttl: TTL_MS, tags: () => ['first:flip'] });
  const cleared = cached(origin, { cache, name: 'first-clear', ttl: TTL_MS });
  await flipped(-1);
  await cleared(-1);
  await shared(-1);
  const kinds = [
    { id: 'untaggedMiss', label: 'untagged miss (a never-seen id)', prepare: async () => {}, call: (n) => untagged(n) },
    { id: 'taggedMiss', label: 'tagged miss, its record exists (a never-seen id, a shared tag)', prepare: async () => {}, call: (n) => shared(n) },
    { id: 'afterInvalidate', label: 'first call after `invalidateTags([tag])` (a stored entry; the record exists, with a new value)', prepare: () => cache.invalidateTags(['first:flip']), call: () => flipped(-1) },
    { id: 'afterClear', label: 'first call after `f.clear()` (a stored untagged entry)', prepare: () => cleared.clear(), call: () => cleared(-1) },
    { id: 'createsRecord', label: 'tagged miss that creates its record (a never-seen tag)', prepare: async () => {}, call: (n) => fresh(n) },
  ];
  const samples = Object.fromEntries(kinds.map((k) => [k.id, { micros: [], commands: 0, reads: 0, perCommand: {} }]));
  for (let r = 0; r < INVALIDATIONS; r++) {
    const shift = r % kinds.length;
    for (const kind of [...kinds.slice(shift), ...kinds.slice(0, shift)]) {
      const n = missSequence++;
      await kind.prepare(n);
      const counted = r < COUNT_BATCHES;
      if (counted) await admin.configResetStat();
      const start = performance.now();
      await kind.call(n);
      const micros = (performance.now() - start) * 1000;
      const s = samples[kind.id];
      s.micros.push(micros);
      if (!counted) continue;
      const info = String(await admin.sendCommand(['INFO', 'stats', 'commandstats']));
      s.reads += Number(/^total_reads_processed:(\d+)/m.exec(info)?.[1] ?? NaN) - 1;
      for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (name === 'info' || name.startsWith('config')) continue;
        s.perCommand[name] = (s.perCommand[name] ?? 0) + Number(calls);
        s.commands += Number(calls);
      }
    }
    if (r % 50 === 49) process.stdout.write(` ${r + 1}`);
  }
  process.stdout.write('\n');
  const counted = Math.min(COUNT_BATCHES, INVALIDATIONS);
  const rows = kinds.map((k) => ({
    id: k.id,
    label: k.label,
    medianMicros: median(samples[k.id].micros),
    commands: samples[k.id].commands / counted,
    reads: samples[k.id].reads / counted,
    perCommand: Object.fromEntries(Object.entries(samples[k.id].perCommand).map(([name, n]) => [name, n / counted])),
  }));
  const fns = [untagged, shared, fresh, flipped, cleared];
  // Every call above is a miss: an invalidated entry must never be served.
  const served = flipped.stats.hits + cleared.stats.hits;
  return { rows, served, errors: fns.reduce((n, f) => n + f.stats.errors, 0) };
}

/**
 * One tag invalidation when the tag covers 10, 1,000 and 100,000 stored entries (hard and
 * `{ stale: true }`), and f.clear() / cache.clear(): time per call (median over INVALIDATIONS,
 * interleaved), commands and round trips per call, the first invalidation of each tag on its own,
 * and the keyspace size before and after (nothing is deleted).
 */
async function measureInvalidation(admin, port) {
  const cache = createCache({ store: { type: 'redis', host: '127.0.0.1', port }, namespace: 'cover' });
  const coverTag = (id) => (id < 10 ? 'cover:10' : id < 1010 ? 'cover:1k' : 'cover:100k');
  const covered = cached(origin, { cache, name: 'covered', ttl: TTL_MS, tags: (id) => [coverTag(id)] });
  const total = COVER_SIZES.reduce((a, b) => a + b, 0);
  process.stdout.write(`tags-invalidate: storing ${total.toLocaleString('en-US')} tagged entries…`);
  for (let start = 0; start < total; start += 1000) {
    await covered.many(Array.from({ length: Math.min(1000, total - start) }, (_, j) => [start + j]));
  }
  const keysBefore = await admin.dbSize();
  const probes = { 'cover:10': 5, 'cover:1k': 500, 'cover:100k': 50_000 };
  const tags = ['cover:10', 'cover:1k', 'cover:100k'];
  // The first invalidation of each tag, while all its entries are fresh; each is then checked gone.
  const first = {};
  let servedAfter = 0;
  for (const tag of tags) {
    const hitsBefore = covered.stats.hits;
    await covered(probes[tag]);
    if (covered.stats.hits !== hitsBefore + 1) throw new Error(`bench: ${tag} entry was not stored`);
    const start = performance.now();
    await cache.invalidateTags([tag]);
    first[tag] = (performance.now() - start) * 1000;
    const after = covered.stats.hits;
    await covered(probes[tag]);
    servedAfter += covered.stats.hits - after;
  }
  const ops = [
    ...tags.map((tag) => ({ id: `hard ${tag}`, label: `\`invalidateTags(['${tag}'])\``, op: () => cache.invalidateTags([tag]) })),
    ...tags.map((tag) => ({ id: `stale ${tag}`, label: `\`invalidateTags(['${tag}'], { stale: true })\``, op: () => cache.invalidateTags([tag], { stale: true }) })),
    { id: 'f.clear', label: '`f.clear()` (its function holds 101,010 entries)', op: () => covered.clear() },
    { id: 'cache.clear', label: '`cache.clear()` (namespace with 101,010 entries)', op: () => cache.clear() },
  ];
  const traffic = {};
  for (const o of ops) traffic[o.id] = await countTraffic([admin], o.op, 'hit', COUNT_BATCHES);
  const micros = Object.fromEntries(ops.map((o) => [o.id, []]));
  for (let r = 0; r < INVALIDATIONS; r++) {
    const shift = r % ops.length;
    for (const o of [...ops.slice(shift), ...ops.slice(0, shift)]) {
      const start = performance.now();
      await o.op();
      micros[o.id].push((performance.now() - start) * 1000);
    }
  }
  process.stdout.write(' done\n');
  const keysAfter = await admin.dbSize();
  const rows = ops.map((o) => ({ id: o.id, label: o.label, medianMicros: median(micros[o.id]), p90Micros: quantile(micros[o.id], 0.9), traffic: traffic[o.id] }));
  const errors = covered.stats.errors;
  await cache.close();
  return { rows, first, keysBefore, keysAfter, servedAfter, errors };
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function renderTags(tags) {
  const titles = { raw: 'raw node-redis `GET` + `JSON.parse`', rawPair: 'raw node-redis `GET` + `MGET` of 1 key, one tick', untagged: 'cachette, untagged', tagged1: 'cachette, 1 tag', tagged3: 'cachette, 3 tags' };
  const lines = [];
  if (tags.hits.length > 0) {
    lines.push(
      `Tagged hits against untagged hits of the same origin and values, standalone (${ROUNDS} rounds; ops/s: median over rounds; ratios: median of the per-round ratios). Commands and round trips per call: INFO commandstats and total_reads_processed over ${COUNT_CALLS} sequential calls. Tags: 1 = \`user:<id>\`; 3 = \`users\`, \`user:<id>\`, \`plan:<id % 3>\`.`,
      '',
      '| in flight | contender | ops/s | / raw | / untagged | rounds / untagged (min–max) | CPU µs per call | Redis commands per call | round trips per call |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const row of tags.hits) {
      const m = row.measured;
      for (const id of ['raw', 'rawPair', 'untagged', 'tagged1', 'tagged3']) {
        const t = row.traffic[id];
        const names = Object.entries(t.perCommand).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name.toUpperCase()}${n === t.calls ? '' : ` ×${(n / t.calls).toFixed(2)}`}`).join(' + ');
        const ratios = m[id].perRound.map((v, r) => v / m.untagged.perRound[r]);
        lines.push(
          `| ${row.concurrency} | ${titles[id]} | ${Math.round(m[id].medianOps).toLocaleString('en-US')} | ${pairedRatio(m[id], m.raw).toFixed(2)}× | ${id.startsWith('raw') ? '—' : `${pairedRatio(m[id], m.untagged).toFixed(2)}×`} | ${id.startsWith('raw') || id === 'untagged' ? '—' : `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`} | ${m[id].cpuMicrosPerOp.toFixed(1)} | ${(t.commands / t.calls).toFixed(2)} (${names}) | ${(t.reads / t.calls).toFixed(2)} |`,
        );
      }
    }
  }
  if (tags.firstCalls) {
    const fc = tags.firstCalls;
    lines.push(
      '',
      `The first call after an invalidation, against plain misses (sequential, ${INVALIDATIONS} of each, interleaved; the invalidation itself is neither timed nor counted; commands and round trips over the first ${Math.min(COUNT_BATCHES, INVALIDATIONS)}):`,
      '',
      '| call | median µs | Redis commands per call | round trips per call |',
      '| --- | ---: | ---: | ---: |',
    );
    for (const row of fc.rows) {
      const names = Object.entries(row.perCommand).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name.toUpperCase()}${n === 1 ? '' : ` ×${n.toFixed(2)}`}`).join(' + ');
      lines.push(`| ${row.label} | ${Math.round(row.medianMicros)} | ${row.commands.toFixed(2)} (${names}) | ${row.reads.toFixed(2)} |`);
    }
    lines.push('', `Invalidated entries served by those calls: ${fc.served}.`);
  }
  if (tags.invalidation) {
    const inv = tags.invalidation;
    lines.push(
      '',
      `One invalidation, sequential (${INVALIDATIONS} of each, interleaved; median and 90th percentile; commands and round trips over ${COUNT_BATCHES} calls). The tags cover 10, 1,000 and 100,000 stored entries (written with \`many()\`); keys in Redis before: ${inv.keysBefore.toLocaleString('en-US')}, after every invalidation: ${inv.keysAfter.toLocaleString('en-US')}.`,
      '',
      '| call | median µs | p90 µs | Redis commands per call | round trips per call |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const row of inv.rows) {
      const t = row.traffic;
      const names = Object.entries(t.perCommand).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name.toUpperCase()}${n === t.calls ? '' : ` ×${(n / t.calls).toFixed(2)}`}`).join(' + ');
      lines.push(`| ${row.label} | ${Math.round(row.medianMicros)} | ${Math.round(row.p90Micros)} | ${(t.commands / t.calls).toFixed(2)} (${names}) | ${(t.reads / t.calls).toFixed(2)} |`);
    }
    lines.push(
      '',
      `The first invalidation of each tag, while all its entries were fresh (one sample each): ${Object.entries(inv.first).map(([tag, us]) => `${tag} ${Math.round(us)} µs`).join(', ')}. Entries served after it: ${inv.servedAfter}.`,
    );
  }
  lines.push('', `cachette stats over the tags phase (hit scenarios): ${tags.stats.hits} hits, ${tags.stats.misses} misses; errors over the whole phase: ${tags.stats.errors}`);
  return lines.join('\n');
}

/**
 * cachette on a local 3-master cluster against raw node-redis `createCluster` (the fair settings
 * cachette gives the cluster it creates): hits and misses at 1 and 64 in flight, and many(100) of
 * hits against 100 concurrent single calls. Commands and round trips are summed over the masters.
 */
async function measureCluster() {
  process.stdout.write('cluster: starting 3 masters + 3 replicas\n');
  const cluster = await startCluster();
  try {
    const raw = createCluster({
      rootNodes: cluster.rootNodes,
      RESP: 2,
      commandOptions: { timeout: 0 },
      defaults: { disableOfflineQueue: true },
    });
    raw.on('error', () => {});
    await raw.connect();
    const cache = createCache({ store: { type: 'redis', cluster: { rootNodes: cluster.rootNodes } }, namespace: 'cl' });
    const getUser = cached(origin, { cache, name: 'user', ttl: TTL_MS });
    const getFresh = cached(origin, { cache, name: 'miss', ttl: TTL_MS });
    const tagged1 = cached(origin, { cache, name: 'tagged1', ttl: TTL_MS, tags: oneTag });
    const tagged3 = cached(origin, { cache, name: 'tagged3', ttl: TTL_MS, tags: threeTags });
    const hitKey = (i) => `raw:user:${i % HOT_KEYS}`;
    await Promise.all(Array.from({ length: HOT_KEYS }, (_, i) => raw.set(hitKey(i), JSON.stringify(makeUser(i)), { expiration: { type: 'PX', value: TTL_MS } })));
    await Promise.all(Array.from({ length: HOT_KEYS }, (_, i) => getUser(i)));
    if (CLUSTER_SCENARIOS.some((sc) => sc.kind === 'tagHit')) {
      await Promise.all(Array.from({ length: HOT_KEYS }, (_, i) => Promise.all([tagged1(i), tagged3(i)])));
    }
    const masters = (await cluster.masters()).map((node) => node.client);
    const ops = {
      hit: {
        raw: async (i) => JSON.parse(await raw.get(hitKey(i))),
        cachette: (i) => getUser(i % HOT_KEYS),
      },
      miss: {
        raw: async (n) => {
          const key = `raw:miss:${n}`;
          const stored = await raw.get(key);
          if (stored !== null) return JSON.parse(stored);
          const value = await origin(n);
          await raw.set(key, JSON.stringify(value), { expiration: { type: 'PX', value: TTL_MS } });
          return value;
        },
        cachette: (n) => getFresh(n),
      },
    };
    const batches = Array.from({ length: HOT_KEYS / 100 }, (_, b) => Array.from({ length: 100 }, (_, j) => b * 100 + j));
    const argsLists = batches.map((list) => list.map((id) => [id]));
    ops.many = {
      raw: (i) => Promise.all(batches[i % batches.length].map(async (id) => JSON.parse(await raw.get(hitKey(id))))),
      many: (i) => getUser.many(argsLists[i % batches.length]),
      singles: (i) => Promise.all(batches[i % batches.length].map((id) => getUser(id))),
    };
    ops.tagHit = {
      raw: ops.hit.raw,
      cachette: ops.hit.cachette,
      tagged1: (i) => tagged1(i % HOT_KEYS),
      tagged3: (i) => tagged3(i % HOT_KEYS),
    };
    const rows = [];
    for (const scenario of CLUSTER_SCENARIOS) {
      const contenders = Object.entries(ops[scenario.kind]).map(([id, op]) => ({ id, op }));
      const kind = scenario.kind === 'miss' ? 'miss' : 'hit';
      const traffic = {};
      for (const c of contenders) traffic[c.id] = await countTraffic(masters, c.op, kind, scenario.kind === 'many' ? COUNT_BATCHES : COUNT_CALLS);
      process.stdout.write(`${scenario.id}:`);
      const measured = await pairedRounds(contenders, kind, scenario.concurrency);
      process.stdout.write('\n');
      rows.push({ ...scenario, traffic, measured });
    }
    const fns = [getUser, getFresh, tagged1, tagged3];
    const stats = { hits: 0, misses: 0, errors: 0 };
    for (const f of fns) for (const k of Object.keys(stats)) stats[k] += f.stats[k];
    await cache.close();
    await raw.close();
    return { rows, stats, masters: masters.length };
  } finally {
    await cluster.stop();
  }
}

function renderCluster(result) {
  const lines = [
    `Redis Cluster, ${result.masters} masters with one replica each (local, started by the bench), cachette against raw node-redis \`createCluster\` (GET + JSON.parse; miss: GET, origin, SET PX), ${ROUNDS} rounds. Commands and round trips: summed over the masters, over ${COUNT_CALLS} sequential calls (${COUNT_BATCHES} batches for many).`,
  ];
  const plain = result.rows.filter((r) => r.kind === 'hit' || r.kind === 'miss');
  if (plain.length > 0) {
    lines.push(
      '',
      '| scenario | in flight | raw cluster ops/s | cachette ops/s | cachette / raw | rounds (min–max) | CPU µs per call, raw | CPU µs per call, cachette | commands per call, raw | commands per call, cachette |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
  }
  const perCall = (t) => (t === undefined ? '—' : (t.commands / t.calls).toFixed(2));
  for (const row of plain) {
    const m = row.measured;
    const ratios = m.cachette.perRound.map((v, r) => v / m.raw.perRound[r]);
    lines.push(
      `| ${row.label} | ${row.concurrency} | ${Math.round(m.raw.medianOps).toLocaleString('en-US')} | ${Math.round(m.cachette.medianOps).toLocaleString('en-US')} | ${pairedRatio(m.cachette, m.raw).toFixed(2)}× | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× | ${m.raw.cpuMicrosPerOp.toFixed(1)} | ${m.cachette.cpuMicrosPerOp.toFixed(1)} | ${perCall(row.traffic.raw)} | ${perCall(row.traffic.cachette)} |`,
    );
  }
  const many = result.rows.find((r) => r.kind === 'many');
  if (many) {
    const titles = { raw: 'raw cluster, 100 concurrent `GET`', many: 'cachette `f.many(100)`', singles: 'cachette, 100 concurrent `f(id)`' };
    lines.push(
      '',
      `many(100) of hits on the cluster, one batch at a time (keys without hash tags, spread over every slot):`,
      '',
      '| contender | items/s | / raw 100 × `GET` | CPU µs per item | Redis commands per item | round trips per call (all masters) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const id of ['raw', 'many', 'singles']) {
      const m = many.measured[id];
      const t = many.traffic[id];
      const names = Object.keys(t.perCommand).sort().map((n) => n.toUpperCase()).join(' + ');
      lines.push(
        `| ${titles[id]} | ${Math.round(m.medianOps * 100).toLocaleString('en-US')} | ${pairedRatio(m, many.measured.raw).toFixed(2)}× | ${(m.cpuMicrosPerOp / 100).toFixed(2)} | ${(t.commands / (t.calls * 100)).toFixed(3)} (${names}) | ${(t.reads / t.calls).toFixed(2)} |`,
      );
    }
    lines.push('', `cachette \`many(100)\` / 100 concurrent single calls on the cluster, items/s: ${pairedRatio(many.measured.many, many.measured.singles).toFixed(2)}× (median of the per-round ratios)`);
  }
  const tagRows = result.rows.filter((r) => r.kind === 'tagHit');
  if (tagRows.length > 0) {
    const titles = { raw: 'raw cluster `GET` + `JSON.parse`', cachette: 'cachette, untagged', tagged1: 'cachette, 1 tag', tagged3: 'cachette, 3 tags' };
    lines.push(
      '',
      'Tagged hits against untagged hits on the cluster (tags as in the standalone table; the tag records have no hash tags, so they and the entry may sit on different masters). Round trips: socket reads summed over the masters, sent in the same tick (one wait).',
      '',
      '| in flight | contender | ops/s | / raw | / untagged | CPU µs per call | Redis commands per call | reads per call (all masters) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const row of tagRows) {
      const m = row.measured;
      for (const id of ['raw', 'cachette', 'tagged1', 'tagged3']) {
        const t = row.traffic[id];
        const names = Object.entries(t.perCommand).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name.toUpperCase()}${n === t.calls ? '' : ` ×${(n / t.calls).toFixed(2)}`}`).join(' + ');
        lines.push(
          `| ${row.concurrency} | ${titles[id]} | ${Math.round(m[id].medianOps).toLocaleString('en-US')} | ${pairedRatio(m[id], m.raw).toFixed(2)}× | ${id === 'raw' ? '—' : `${pairedRatio(m[id], m.cachette).toFixed(2)}×`} | ${m[id].cpuMicrosPerOp.toFixed(1)} | ${(t.commands / t.calls).toFixed(2)} (${names}) | ${(t.reads / t.calls).toFixed(2)} |`,
        );
      }
    }
  }
  lines.push('', `cachette stats over the cluster phase: ${result.stats.hits} hits, ${result.stats.misses} misses, ${result.stats.errors} errors`);
  return lines.join('\n');
}

/**
 * Fail-open cost with Redis down: the origin called directly, beside cachette pointed at a port
 * nothing listens on, with its circuit breaker (default) and without it. Every call must answer.
 */
async function measureRedisDown() {
  const deadPort = await freePort();
  const quiet = { warn() {}, error() {} };
  const withBreaker = createCache({ store: { type: 'redis', host: '127.0.0.1', port: deadPort }, logger: quiet });
  const noBreaker = createCache({ store: { type: 'redis', host: '127.0.0.1', port: deadPort }, logger: quiet, breaker: false });
  const viaBreaker = cached(origin, { cache: withBreaker, name: 'down', ttl: TTL_MS });
  const viaNoBreaker = cached(origin, { cache: noBreaker, name: 'down', ttl: TTL_MS });
  const contenders = [
    ['origin alone', (i) => origin(i)],
    ['cachette, breaker on (default)', (i) => viaBreaker(i)],
    ['cachette, breaker off', (i) => viaNoBreaker(i)],
  ];
  process.stdout.write('redis-down:');
  for (const [, op] of contenders) await measure(op, 'hit', 1, WARMUP_MS);
  const rows = [];
  for (const concurrency of [1, 64]) {
    for (const [label, op] of contenders) {
      const ops = [];
      const cpu = [];
      for (let r = 0; r < 5; r++) {
        const m = await measure(op, 'hit', concurrency, ROUND_MS / 2);
        ops.push(m.ops / m.seconds);
        cpu.push(m.cpuMicros / m.ops);
      }
      rows.push({ concurrency, label, medianOps: median(ops), cpuMicrosPerOp: median(cpu) });
    }
    process.stdout.write(` ${concurrency}`);
  }
  process.stdout.write('\n');
  const answered = { breaker: viaBreaker.stats, noBreaker: viaNoBreaker.stats };
  await withBreaker.close();
  await noBreaker.close();
  return { rows, stats: answered };
}

function renderRedisDown(down) {
  const lines = [
    'Redis down (a port nothing listens on): fail-open cost per call. Every call answered from the origin.',
    '',
    '| in flight | contender | calls/s | CPU µs per call |',
    '| --- | --- | ---: | ---: |',
  ];
  for (const row of down.rows) {
    lines.push(`| ${row.concurrency} | ${row.label} | ${Math.round(row.medianOps).toLocaleString('en-US')} | ${row.cpuMicrosPerOp.toFixed(2)} |`);
  }
  const b = down.stats.breaker;
  const n = down.stats.noBreaker;
  lines.push('', `breaker on: ${b.misses} calls, ${b.errors} errors, ${b.skipped ?? 0} store operations skipped; breaker off: ${n.misses} calls, ${n.errors} errors`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

function renderReport({ machine, startedAt, results, commands, contestants, trap, stats }) {
  const fmt = (n) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
  const ratio = (x) => (x === undefined ? '—' : `${x.toFixed(2)}×`);
  const peers = contestants.filter((c) => c.id !== 'raw' && c.id !== 'cachette');
  const lines = [];
  lines.push(
    `Measured ${startedAt.toISOString()} · cachette ${machine.revision} · ${machine.cpus} CPUs · node ${machine.node} · redis ${machine.redis} · load at start ${machine.loadAverage}`,
  );
  lines.push(
    `${ROUNDS} rounds; in each, every contestant runs ${ROUND_MS} ms (two halves, mirrored order). ops/s: median over rounds; ratio: median of the per-round ratios to raw node-redis.`,
  );
  lines.push('');
  const head = ['scenario', 'in flight', 'raw node-redis ops/s', 'cachette ops/s', 'cachette / raw', 'rounds (min–max)', 'target', 'met'];
  for (const p of peers) head.push(`${p.title} ops/s (/ raw)`);
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
  let missed = 0;
  for (const row of results) {
    const raw = row.contestants.raw;
    const mine = row.contestants.cachette;
    let met = '—';
    if (row.target !== undefined && mine?.ratioToRaw !== undefined) {
      if (mine.ratioToRaw >= row.target) met = 'yes';
      else {
        missed++;
        met = `no (short by ${(row.target - mine.ratioToRaw).toFixed(3)}×)`;
      }
    }
    const cells = [
      row.label,
      String(row.concurrency),
      fmt(raw?.medianOps),
      fmt(mine?.medianOps),
      ratio(mine?.ratioToRaw),
      mine?.roundRatios ? `${Math.min(...mine.roundRatios).toFixed(2)}–${Math.max(...mine.roundRatios).toFixed(2)}×` : '—',
      row.target === undefined ? '—' : `≥ ${row.target.toFixed(2)}×`,
      met,
    ];
    for (const p of peers) {
      const r = row.contestants[p.id];
      cells.push(r === undefined ? 'n/a' : `${fmt(r.medianOps)} (${ratio(r.ratioToRaw)})`);
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('CPU time of the benchmark process per call, µs (median over rounds; less sensitive to other load than ops/s):');
  lines.push('');
  const cpuHead = ['scenario', 'in flight', ...contestants.map((c) => c.title), 'cachette − raw'];
  lines.push(`| ${cpuHead.join(' | ')} |`);
  lines.push(`|${cpuHead.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const row of results) {
    const us = (id) => row.contestants[id]?.cpuMicrosPerOp;
    const cells = [row.label, String(row.concurrency), ...contestants.map((c) => (us(c.id) === undefined ? 'n/a' : us(c.id).toFixed(1)))];
    const extra = us('cachette') !== undefined && us('raw') !== undefined ? `${(us('cachette') - us('raw')).toFixed(1)}` : '—';
    cells.push(extra);
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const lockPairs = [1, 64]
    .map((n) => [n, results.find((r) => r.kind === 'miss' && r.concurrency === n)?.contestants.cachette, results.find((r) => r.kind === 'lockMiss' && r.concurrency === n)?.contestants.cachette])
    .filter(([, off, on]) => off !== undefined && on !== undefined);
  if (lockPairs.length > 0) {
    lines.push('');
    lines.push('cachette, cost per miss with `lock: true` vs without (uncontended; same run, separate rounds):');
    lines.push('');
    lines.push('| in flight | miss ops/s | miss, lock on ops/s | lock on / off | CPU µs per miss | CPU µs per miss, lock on | added by the lock |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [n, off, on] of lockPairs) {
      lines.push(
        `| ${n} | ${fmt(off.medianOps)} | ${fmt(on.medianOps)} | ${ratio(on.medianOps / off.medianOps)} | ${off.cpuMicrosPerOp.toFixed(1)} | ${on.cpuMicrosPerOp.toFixed(1)} | ${(on.cpuMicrosPerOp - off.cpuMicrosPerOp).toFixed(1)} |`,
      );
    }
  }
  lines.push('');
  lines.push(`Redis commands per call (INFO commandstats over ${COUNT_CALLS} sequential calls):`);
  lines.push('');
  const cmdHead = ['call', ...contestants.map((c) => c.title)];
  lines.push(`| ${cmdHead.join(' | ')} |`);
  lines.push(`|${cmdHead.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  const kinds = [
    ['hit', 'hit'],
    ['ttlHit', 'hit + per-call ttl'],
    ['miss', 'miss'],
    ['lockMiss', 'miss, lock on'],
  ];
  for (const [kind, label] of kinds) {
    const cells = [label];
    for (const c of contestants) {
      const counted = commands[c.id]?.[kind];
      if (!counted) {
        cells.push('n/a');
        continue;
      }
      const parts = Object.entries(counted.perCommand)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name.toUpperCase()}${n === 1 ? '' : ` ×${n.toFixed(2)}`}`)
        .join(' + ');
      cells.push(`${counted.perCall.toFixed(2)} (${parts})`);
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const cmd = commands.cachette;
  if (cmd) {
    // An MGET here is the clear-generation poll (one a second per cache, whoever is being counted), not the call's.
    const own = (counted) => (counted === undefined ? undefined : counted.perCall - (counted.perCommand.mget ?? 0));
    // Per-call figures are quotients (1001/1000 − 1/1000 is 0.9999999999999999): compared to 1e-9.
    const ok = Math.abs((own(cmd.hit) ?? 1) - 1) < 1e-9 && Math.abs((own(cmd.ttlHit) ?? 1) - 1) < 1e-9 && (own(cmd.miss) ?? 2) <= 2 + 1e-9;
    if (!ok) missed++;
    lines.push('');
    lines.push(`Command targets (1 per hit, sliding TTL included; ≤ 2 per miss; not counting \`MGET\`, the clear-generation poll that each open cache sends once a second, which falls on whichever contestant is being counted): ${ok ? 'met' : 'MISSED'}`);
  }
  if (trap) {
    lines.push('');
    lines.push('node-redis 6 default per-command timeout (5 s, an AbortSignal per command) vs `commandOptions: { timeout: 0 }`, raw GET + JSON.parse hits, 3 rounds each, not interleaved:');
    lines.push('');
    lines.push('| in flight | timeout: 0 ops/s | default options ops/s | default / timeout 0 |');
    lines.push('| --- | ---: | ---: | ---: |');
    for (const t of trap) lines.push(`| ${t.concurrency} | ${fmt(t.fairOps)} | ${fmt(t.defaultOps)} | ${ratio(t.ratio)} |`);
  }
  if (stats) {
    lines.push('');
    lines.push(`cachette stats over the run: ${stats.hits} hits, ${stats.misses} misses, ${stats.errors} errors, ${stats.lockWaits} lock waits`);
    if (stats.errors > 0) missed++;
  }
  return { text: lines.join('\n'), missed };
}

/** The commit the measured build comes from, and whether lib/ differed from it. */
function gitRevision() {
  const git = (...args) => execFileSync('git', args, { cwd: new URL('..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'lib') === '' ? head : `${head} + uncommitted lib/ changes`;
  } catch {
    return 'not a git checkout';
  }
}

function positiveInt(text, fallback) {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function listEnv(text) {
  return text ? text.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error) => {
  console.error(error);
  killServer();
  process.exit(1);
});
