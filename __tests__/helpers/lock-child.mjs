// One "app process" for __tests__/integration/lock-multiprocess.test.ts: it calls one cached function
// with the cross-process lock through the built package ('cachette', from dist/), on the Redis the
// parent names, and counts every origin run with INCR on that Redis.
//
// Talks to the parent over IPC:
//   child → { type: 'ready' }                   connected to Redis (both the cache and the counter)
//   parent → { type: 'go' }                     make the calls
//   child → { type: 'computing', run }          inside the origin, after counting the run
//   child → { type: 'waiting' }                 once, when the function's stats show a lock wait
//   child → { type: 'done', values, errors, stats }   every call settled; then the child exits
//
// Environment: LOCK_REDIS_URL; LOCK_CALLS (concurrent calls, default 250); LOCK_ORIGIN 'quick' (the
// default) or 'hang' (never answers: the process is killed inside it); LOCK_PROCESSES: a quick origin
// answers only once this many processes have seen every one of their calls miss (each INCRs
// mp:missed when it has), so that all of them really compete for the lock; LOCK_TTL_MS, LOCK_WAIT_MS
// (the lock's ttl and wait; default the library's).
import { cached, createCache } from 'cachette';
import { createClient } from 'redis';

const url = process.env.LOCK_REDIS_URL;
const calls = Number(process.env.LOCK_CALLS ?? 250);
const hang = process.env.LOCK_ORIGIN === 'hang';
const processes = Number(process.env.LOCK_PROCESSES ?? 0);
const lock = {
  ...(process.env.LOCK_TTL_MS ? { ttl: Number(process.env.LOCK_TTL_MS) } : {}),
  ...(process.env.LOCK_WAIT_MS ? { wait: Number(process.env.LOCK_WAIT_MS) } : {}),
};

const counter = createClient({ url });
counter.on('error', () => {});
await counter.connect();
const cache = createCache({ store: { type: 'redis', url }, namespace: 'mp' });

const getReport = cached(
  async (id) => {
    const run = await counter.incr('mp:origin-runs');
    process.send({ type: 'computing', run });
    if (hang) await new Promise(() => {}); // the parent kills this process here
    // Bounded: after 20 s it answers anyway, and the parent's counts show what went wrong.
    for (let i = 0; i < 2000 && Number(await counter.get('mp:missed')) < processes; i++) await sleep(10);
    return { id, run, pid: process.pid };
  },
  { cache, name: 'getReport', ttl: '1m', lock },
);

// Open the cache's connection before the parent says go, so every process starts its calls together.
await cache.store.get('mp:warm-up');
process.send({ type: 'ready' });

process.on('message', async (message) => {
  if (message?.type !== 'go') return;
  let waiting = false;
  let missed = false;
  const watch = setInterval(() => {
    if (!waiting && getReport.stats.lockWaits > 0) {
      waiting = true;
      process.send({ type: 'waiting' });
    }
    if (!missed && getReport.stats.misses === calls) {
      missed = true;
      counter.incr('mp:missed').catch(() => {});
    }
  }, 5);
  const settled = await Promise.allSettled(Array.from({ length: calls }, () => getReport(42)));
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
  await counter.close();
  process.send({ type: 'done', values, errors, stats: { ...getReport.stats } }, () => process.disconnect());
});

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
