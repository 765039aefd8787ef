// The staleness bound of cachette's in-process tier, measured across 3 real processes: one writer
// stores a new value of one key every few ms (`f.refresh(0)`), two readers call `f(0)` back to back
// (one macrotask apart) and serve it from their tier. Per write and reader: the time from the write
// resolving in the writer to the reader's first call that answered the new value (0 when the reader
// had it before the writer's await returned). Processes on one machine share a clock
// (`performance.timeOrigin + performance.now()`), so these differences are comparable.
//
// Also counted, these must be 0:
// - stale after the tier was told: calls that answered an older value although they started after the
//   reader's tier had received the write's invalidation (its `cachette:l1` `'changed'` event, published
//   once the tier dropped its copy);
// - regressions: calls that answered an older value than one the same reader had already answered.
// And, for comparison, "stale after the harness was told": the same count, against the moment a tracking
// connection of the harness's own in that process (`CLIENT TRACKING ON BCAST PREFIX`, raw RESP3, one per
// master) received the invalidation, plus 1 ms. Redis writes the announcement to each tracking client
// in turn, so this one may see it before the tier's connection does: this count need not be 0.
//
//   node bench/l1-latency.mjs [standalone|cluster|both]     (after `npm run build`; default: both)
//   npm run bench with BENCH_SCENARIOS=l1 runs the same (scenario ids `l1-latency`, `l1-latency-cluster`)
//
// Environment: L1LAT_WRITES (writes per run, default 1000), L1LAT_INTERVAL_MS (pause between writes,
// default 5). Internal: L1LAT_ROLE, L1LAT_STORE, L1LAT_PORTS (set for the children).
import { fork, spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cached, createCache, L1_CHANNEL } from 'cachette';
import { startCluster } from './cluster.mjs';
import { freePort } from './ports.mjs';

const WRITES = positiveInt(process.env.L1LAT_WRITES, 1000);
const INTERVAL_MS = positiveInt(process.env.L1LAT_INTERVAL_MS, 5);
const NAMESPACE = 'lat';
/** Key prefix of the measured function's entries (namespace, then the function's name). */
const PREFIX = `${NAMESPACE}:item:`;
/** Calls a reader makes at most in one run (the run also ends when the last write has been seen). */
const READ_BOUND = 20_000_000;
/** How long the parent waits for a child's answer before giving up on the run. */
const STEP_LIMIT_MS = 120_000;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const macrotask = () => new Promise((resolve) => setImmediate(resolve));

function positiveInt(text, fallback) {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

// ---------------------------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------------------------

function openCache(store) {
  return createCache({ store, namespace: NAMESPACE, l1: { maxEntries: 1000 }, logger: { warn() {}, error() {} } });
}

/** One message from the parent, of `type`. */
function nextMessage(type) {
  return new Promise((resolve) => {
    const listener = (message) => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve(message);
    };
    process.on('message', listener);
  });
}

async function writer(store) {
  const cache = openCache(store);
  let version = 0;
  const item = cached(async () => ({ v: version }), { cache, name: 'item', ttl: '1h' });
  await item.refresh(0);
  process.send({ type: 'ready' });
  const { writes, intervalMs } = await nextMessage('go');
  const resolvedAt = [0];
  let failed = 0;
  for (version = 1; version <= writes; version++) {
    const errorsBefore = item.stats.errors;
    await item.refresh(0);
    resolvedAt.push(now());
    if (item.stats.errors !== errorsBefore) failed++;
    await sleep(intervalMs);
  }
  process.send({ type: 'done', resolvedAt, failed });
  await cache.close();
}

/**
 * A tracking connection of the harness's own: RESP3, `CLIENT TRACKING ON BCAST PREFIX prefix`.
 * Calls `onInvalidate()` once per invalidation message. Resolves once tracking is on.
 */
function observe(port, prefix, onInvalidate) {
  const command = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const marker = '>2\r\n$10\r\ninvalidate\r\n';
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let on = false;
    let tail = '';
    socket.on('error', reject);
    socket.on('connect', () => socket.write(command('HELLO', '3') + command('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', prefix)));
    socket.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      if (!on && text.includes('+OK\r\n')) {
        on = true;
        resolve(socket);
      }
      for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) onInvalidate();
      tail = text.slice(-(marker.length - 1));
    });
  });
}

async function reader(store, ports) {
  const cache = openCache(store);
  let originRuns = 0;
  const item = cached(
    async () => {
      originRuns++;
      throw new Error('a reader never runs the origin: the writer stored the entry first');
    },
    { cache, name: 'item', ttl: '1h' },
  );
  // Tier ready, and the entry served from it once.
  for (let i = 0; i < 10_000 && !(cache.health().l1?.state === 'ready' && item.stats.l1Hits > 0); i++) {
    await item(0);
    await sleep(1);
  }
  if (!(item.stats.l1Hits > 0)) throw new Error(`reader: the tier never served a hit (${JSON.stringify(cache.health().l1)})`);

  // Invalidation k (k = 1, 2, …) is write k. `told` is the highest one the tier received; `armed` the
  // highest one the harness's own connection received at least 1 ms ago.
  const toldAt = [0];
  let told = 0;
  subscribe(L1_CHANNEL, (event) => {
    if (event.event !== 'changed' || event.namespace !== NAMESPACE) return;
    told = toldAt.length;
    toldAt.push(now());
  });
  const receivedAt = [0];
  let armed = 0;
  const sockets = await Promise.all(
    ports.map((port) =>
      observe(port, PREFIX, () => {
        const k = receivedAt.length;
        receivedAt.push(now());
        setTimeout(() => (armed = Math.max(armed, k)), 1);
      }),
    ),
  );
  process.send({ type: 'ready' });
  await nextMessage('go');

  const firstSeen = [0];
  let seen = 0;
  let reads = 0;
  let staleAfterReceived = 0;
  let staleAfterTold = 0;
  let regressions = 0;
  let errors = 0;
  let final;
  const statsBefore = { ...item.stats };
  process.on('message', (message) => {
    if (message.type === 'final') final = message.version;
  });
  while (reads < READ_BOUND && !(final !== undefined && seen >= final)) {
    const start = now();
    const armedAtStart = armed;
    const toldAtStart = told;
    let value;
    try {
      value = await item(0);
    } catch {
      errors++;
      await macrotask();
      continue;
    }
    reads++;
    if (value.v < seen) regressions++;
    if (value.v < armedAtStart) staleAfterReceived++;
    if (value.v < toldAtStart) staleAfterTold++;
    while (seen < value.v) {
      seen++;
      firstSeen[seen] = start;
    }
    await macrotask();
  }
  const stats = { ...item.stats };
  for (const socket of sockets) socket.destroy();
  process.send({
    type: 'done',
    firstSeen,
    receivedAt,
    toldAt,
    reads,
    reachedFinal: final !== undefined && seen >= final,
    staleAfterReceived,
    staleAfterTold,
    regressions,
    errors,
    originRuns,
    hits: stats.hits - statsBefore.hits,
    l1Hits: stats.l1Hits - statsBefore.l1Hits,
    misses: stats.misses - statsBefore.misses,
    flushes: cache.health().l1?.flushes,
  });
  await cache.close();
}

// ---------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------

/** A throwaway redis-server on a free port: `{ port, stop() }`. */
async function startStandalone() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', os.tmpdir()], {
    stdio: 'ignore',
  });
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return { port, stop: async () => kill() };
    await sleep(50);
  }
  kill();
  throw new Error('redis-server did not start (is it on PATH?)');
}

/** A forked child of this script, and its messages by type. */
function child(role, env) {
  const proc = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, ...env, L1LAT_ROLE: role }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr.on('data', (chunk) => (stderr += chunk));
  const messages = [];
  const waiters = [];
  proc.on('message', (message) => {
    messages.push(message);
    for (const w of [...waiters]) w();
  });
  proc.on('exit', () => {
    for (const w of [...waiters]) w();
  });
  return {
    proc,
    send: (message) => proc.send(message),
    next: (type) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${role}: no '${type}' within ${STEP_LIMIT_MS} ms\n${stderr}`)), STEP_LIMIT_MS);
        const check = () => {
          const found = messages.find((m) => m.type === type);
          if (found) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(found);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            reject(new Error(`${role} exited (${proc.exitCode ?? proc.signalCode}) before '${type}'\n${stderr}`));
          }
        };
        waiters.push(check);
        check();
      }),
    kill: () => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'),
  };
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * One run on `topology` ('standalone' | 'cluster'): servers, a writer and two readers, WRITES writes
 * INTERVAL_MS apart. Returns the figures (see `renderL1Latency`).
 */
export async function measureL1Latency({ topology, writes = WRITES, intervalMs = INTERVAL_MS }) {
  process.stdout.write(`l1-latency (${topology}): starting`);
  let store;
  let ports;
  let stop;
  if (topology === 'cluster') {
    const cluster = await startCluster();
    store = { type: 'redis', cluster: { rootNodes: cluster.rootNodes } };
    ports = (await cluster.masters()).map((node) => node.port);
    stop = () => cluster.stop();
  } else {
    const server = await startStandalone();
    store = { type: 'redis', url: `redis://127.0.0.1:${server.port}` };
    ports = [server.port];
    stop = () => server.stop();
  }
  const env = { L1LAT_STORE: JSON.stringify(store), L1LAT_PORTS: ports.join(',') };
  const children = [];
  try {
    const w = child('writer', env);
    children.push(w);
    await w.next('ready');
    const readers = [child('reader', env), child('reader', env)];
    children.push(...readers);
    await Promise.all(readers.map((r) => r.next('ready')));
    process.stdout.write(', running');
    for (const r of readers) r.send({ type: 'go' });
    w.send({ type: 'go', writes, intervalMs });
    const { resolvedAt, failed } = await w.next('done');
    for (const r of readers) r.send({ type: 'final', version: writes });
    const results = await Promise.all(readers.map((r) => r.next('done')));
    process.stdout.write(', done\n');

    const latencies = [];
    const delivery = [];
    const lag = [];
    let early = 0;
    for (const r of results) {
      for (let n = 1; n <= writes; n++) {
        if (r.firstSeen[n] === undefined) continue;
        const ms = r.firstSeen[n] - resolvedAt[n];
        if (ms < 0) early++;
        latencies.push(Math.max(0, ms));
        if (r.toldAt[n] !== undefined) delivery.push(r.toldAt[n] - resolvedAt[n]);
        if (r.toldAt[n] !== undefined && r.receivedAt[n] !== undefined) lag.push(r.toldAt[n] - r.receivedAt[n]);
      }
    }
    latencies.sort((a, b) => a - b);
    delivery.sort((a, b) => a - b);
    lag.sort((a, b) => a - b);
    const sum = (field) => results.reduce((total, r) => total + r[field], 0);
    return {
      topology,
      writes,
      intervalMs,
      failedWrites: failed,
      samples: latencies.length,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies.at(-1),
      seenBeforeResolved: early,
      deliveryP50: quantile(delivery, 0.5),
      deliveryP99: quantile(delivery, 0.99),
      staleAfterReceived: sum('staleAfterReceived'),
      staleAfterTold: sum('staleAfterTold'),
      tierLagMin: lag[0],
      tierLagP50: quantile(lag, 0.5),
      tierLagP99: quantile(lag, 0.99),
      tierLagMax: lag.at(-1),
      regressions: sum('regressions'),
      reads: sum('reads'),
      l1Hits: sum('l1Hits'),
      hits: sum('hits'),
      misses: sum('misses'),
      errors: sum('errors'),
      originRuns: sum('originRuns'),
      reachedFinal: results.every((r) => r.reachedFinal),
      invalidationsReceived: results.map((r) => r.receivedAt.length - 1),
      tierTold: results.map((r) => r.toldAt.length - 1),
    };
  } finally {
    for (const c of children) c.kill();
    await stop();
  }
}

const ms = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/** The runs as markdown. */
export function renderL1Latency(runs) {
  const lines = [
    'Tier invalidation latency across 3 processes (`l1` group, bench/l1-latency.mjs): one writer stores a new value every few ms, two readers call back to back; per write and reader, ms from the write resolving in the writer to the first call answering the new value.',
    '',
    '| topology | writes × readers | p50 ms | p99 ms | max ms | seen before the write resolved | tier told p50 / p99 ms | tier told after the harness, min / p50 / p99 / max ms | stale after the tier was told | stale after the harness was told (+1 ms) | regressions | reads (tier hits) | misses | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of runs) {
    lines.push(
      `| ${r.topology} | ${r.writes} × 2 (${r.samples} seen${r.reachedFinal ? '' : ', last write NOT seen'}) | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.seenBeforeResolved} | ${ms(r.deliveryP50)} / ${ms(r.deliveryP99)} | ${ms(r.tierLagMin)} / ${ms(r.tierLagP50)} / ${ms(r.tierLagP99)} / ${ms(r.tierLagMax)} | ${r.staleAfterTold} | ${r.staleAfterReceived} | ${r.regressions} | ${r.reads} (${r.l1Hits}) | ${r.misses} | ${r.errors + r.originRuns + r.failedWrites} |`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Entry
// ---------------------------------------------------------------------------------------------

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const role = process.env.L1LAT_ROLE;
  if (role === 'writer') {
    await writer(JSON.parse(process.env.L1LAT_STORE));
    process.disconnect();
  } else if (role === 'reader') {
    await reader(JSON.parse(process.env.L1LAT_STORE), process.env.L1LAT_PORTS.split(',').map(Number));
    process.disconnect();
  } else {
    const which = process.argv[2] ?? 'both';
    const topologies = which === 'both' ? ['standalone', 'cluster'] : [which];
    const runs = [];
    for (const topology of topologies) runs.push(await measureL1Latency({ topology }));
    console.log('\n' + renderL1Latency(runs));
    if (runs.some((r) => r.staleAfterTold > 0 || r.regressions > 0 || !r.reachedFinal)) process.exitCode = 1;
  }
}
