// One "app process" for __tests__/helpers/invalidation-suite.ts: it serves a tagged function and an
// untagged one through the built package ('cachette', from dist/), on the Redis topology the parent
// names (standalone, Cluster or Sentinel), under the namespace 'inv'. Each origin answers
// `{ fn, id, epoch }`, where `epoch` is what the key `epoch` held on that Redis when the origin
// started: the parent bumps it before an invalidation, so an answer with an older epoch is an
// invalidated value.
//
// Talks to the parent over IPC; every request carries a `seq` that its reply repeats:
//   child → { type: 'ready' }
//   parent → { type: 'call', seq, fn, ids }          calls fn(id) for each id, one after the other
//   parent → { type: 'many', seq, fn, ids }          one fn.many()
//   child → { type: 'answer', seq, values, stats }
//   parent → { type: 'invalidateTags', seq, tags, stale? } / { type: 'clear', seq, scope: 'cache' | 'fn', fn? }
//   child → { type: 'invalidated', seq, at }         `at`: this process's clock when it resolved (ms)
//   parent → { type: 'hold', seq, fn, id }           call fn(id) with its origin held (replies 'answer' once released)
//   child → { type: 'holding', seq, epoch }          the held origin has read its epoch and waits
//   parent → { type: 'release', seq }                let the held origin answer
//   parent → { type: 'watch', seq, fn, id, epoch }   call fn(id) every ms until it answers `epoch`
//   child → { type: 'watched', seq, stale, at }      answers with an older epoch meanwhile; `at`: when the first fresh one came
//   parent → { type: 'generation', seq }             the namespace's clear generation as this process sees it
//   child → { type: 'generation', seq, value }
//
// Environment: INV_STORE (JSON: the cache's `store` config, `{ type: 'redis', url | cluster | sentinel }`);
// INV_POLL_MS (clearPollInterval, default the library's).
import { cached, createCache } from 'cachette';
import { createClient, createCluster, createSentinel } from 'redis';
import { performance } from 'node:perf_hooks';

const store = JSON.parse(process.env.INV_STORE);
const pollMs = process.env.INV_POLL_MS ? Number(process.env.INV_POLL_MS) : undefined;

// The origins read `epoch` with a client of their own, on the same topology; on a copy of the options,
// which node-redis fills in as it connects (a root node it used gains `socket`, `RESP` …).
const own = structuredClone(store);
const reader = own.cluster ? createCluster(own.cluster) : own.sentinel ? createSentinel(own.sentinel) : createClient({ url: own.url });
reader.on('error', () => {});
await reader.connect();
const quiet = { warn() {}, error() {} };
const cache = createCache({ store, namespace: 'inv', logger: quiet, ...(pollMs === undefined ? {} : { clearPollInterval: pollMs }) });

/** Held origins, by the seq of the request that holds them. */
const held = new Map();
let holding;

async function origin(fn, id) {
  const epoch = Number(await reader.get('epoch'));
  if (holding !== undefined) {
    const { seq } = holding;
    holding = undefined;
    process.send({ type: 'holding', seq, epoch });
    await new Promise((resolve) => held.set(seq, resolve));
  }
  return { fn, id, epoch };
}

const functions = {
  tagged: cached((id) => origin('tagged', id), { cache, name: 'tagged', ttl: '1h', tags: (id) => [`item:${id}`, 'all'] }),
  plain: cached((id) => origin('plain', id), { cache, name: 'plain', ttl: '1h' }),
};

const now = () => performance.timeOrigin + performance.now();
const stats = () => Object.fromEntries(Object.entries(functions).map(([name, f]) => [name, { ...f.stats }]));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Open the connection and load the generations before the parent starts: one miss of each function,
// on a key of this process's own.
await Promise.all([functions.tagged(-process.pid), functions.plain(-process.pid)]);
process.send({ type: 'ready' });

process.on('message', async (message) => {
  const { seq } = message;
  try {
    switch (message.type) {
      case 'call': {
        const f = functions[message.fn];
        const values = [];
        for (const id of message.ids) values.push(await f(id));
        process.send({ type: 'answer', seq, values, stats: stats() });
        break;
      }
      case 'many': {
        const values = await functions[message.fn].many(message.ids.map((id) => [id]));
        process.send({ type: 'answer', seq, values, stats: stats() });
        break;
      }
      case 'invalidateTags':
        await cache.invalidateTags(message.tags, { stale: message.stale === true });
        process.send({ type: 'invalidated', seq, at: now() });
        break;
      case 'clear':
        if (message.scope === 'cache') await cache.clear();
        else await functions[message.fn].clear();
        process.send({ type: 'invalidated', seq, at: now() });
        break;
      case 'hold': {
        holding = { seq };
        const value = await functions[message.fn](message.id);
        process.send({ type: 'answer', seq, values: [value], stats: stats() });
        break;
      }
      case 'release':
        held.get(message.seq)?.();
        held.delete(message.seq);
        break;
      case 'watch': {
        const f = functions[message.fn];
        let stale = 0;
        // Bounded: after 20 s the parent's wait has failed anyway.
        for (let i = 0; i < 20_000; i++) {
          const value = await f(message.id);
          if (value.epoch >= message.epoch) {
            process.send({ type: 'watched', seq, stale, at: now() });
            return;
          }
          stale++;
          await sleep(1);
        }
        process.send({ type: 'watched', seq, stale, at: -1 });
        break;
      }
      case 'generation':
        process.send({ type: 'generation', seq, value: cache.generations.valueOf('inv|gen') ?? null });
        break;
      case 'close':
        await cache.close();
        await reader.close();
        process.send({ type: 'closed', seq }, () => process.disconnect());
        break;
    }
  } catch (error) {
    process.send({ type: 'failed', seq, error: String(error) });
  }
});
