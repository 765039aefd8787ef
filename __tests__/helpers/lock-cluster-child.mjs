// One "app process" for __tests__/integration/lock-cluster-multiprocess.test.ts: it calls one cached
// function with the cross-process lock through the built package ('cachette', from dist/), on the Redis
// Cluster the parent names, for several keys at once. Origin runs are reported to the parent, which
// counts them across all processes.
//
// Talks to the parent over IPC:
//   child → { type: 'ready' }                    connected to the cluster
//   parent → { type: 'go' }                      make the calls
//   child → { type: 'missed' }                   once every call of this process has missed
//   child → { type: 'computing', id }            inside the origin, for key `id`
//   parent → { type: 'release' }                 every process has missed: the origins may answer
//   child → { type: 'done', values, errors, stats }   every call settled; then the child exits
//
// Environment: LOCK_ROOT_NODES (JSON array of { url }); LOCK_IDS (JSON array of numbers: the argument of
// each key); LOCK_CALLS (concurrent calls per key, default 50).
import { cached, createCache } from 'cachette';

const rootNodes = JSON.parse(process.env.LOCK_ROOT_NODES);
const ids = JSON.parse(process.env.LOCK_IDS);
const calls = Number(process.env.LOCK_CALLS ?? 50);

const cache = createCache({
  store: { type: 'redis', cluster: { rootNodes } },
  namespace: 'mpc',
  logger: { warn() {}, error() {} },
});

let release;
const released = new Promise((resolve) => (release = resolve));

const getReport = cached(
  async (id) => {
    process.send({ type: 'computing', id });
    // Bounded: after 20 s it answers anyway, and the parent's counts show what went wrong.
    await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
    return { id, pid: process.pid };
  },
  { cache, name: 'getReport', ttl: '1m', lock: true },
);

// Open the connections to the masters of every data and lock key (reading them changes nothing) before the parent says go, so every process starts together.
await Promise.all(ids.flatMap((id) => [cache.store.get(getReport.keyFor(id)), cache.store.get(`${getReport.keyFor(id)}|lock`)]));
process.send({ type: 'ready' });

process.on('message', async (message) => {
  if (message?.type === 'release') {
    release();
    return;
  }
  if (message?.type !== 'go') return;
  let missed = false;
  const watch = setInterval(() => {
    if (!missed && getReport.stats.misses === calls * ids.length) {
      missed = true;
      process.send({ type: 'missed' });
    }
  }, 5);
  const settled = await Promise.allSettled(ids.flatMap((id) => Array.from({ length: calls }, () => getReport(id))));
  clearInterval(watch);
  const values = {};
  const errors = [];
  for (const result of settled) {
    if (result.status === 'rejected') errors.push(String(result.reason));
    else {
      const text = JSON.stringify(result.value);
      values[text] = (values[text] ?? 0) + 1;
    }
  }
  await cache.close();
  process.send({ type: 'done', values, errors, stats: { ...getReport.stats } }, () => process.disconnect());
});
