// One app process of the two-tier coherence suite (`helpers/coherence-suite.ts`): a cache with the
// in-process tier (`l1`) on the topology it is given, and one tagged cached function, `item(id)`, whose
// origin answers `{ id, epoch }` with the epoch the parent last set in this process (`epoch` request).
// So a value older than the epoch the parent set before a write is an old value.
//
// Requests from the parent all carry a `seq`, and each gets one reply `{ type: 'reply', seq, ... }`
// (or `{ type: 'failed', seq, error }`):
//   epoch { epoch }             set the epoch the origin answers from now on
//   call { id, options? }       item(id, options?) → { value, stats, l1 }
//   write { op, id?, tags? }    one write, resolves when it has: op 'miss' (a call with cacheRead: false),
//                               'refresh', 'forceRefresh', 'invalidate', 'invalidateTags', 'clear' → { at }
//   health                      → { l1, connection }
//   watch { id, epoch, limit }  call item(id) every ms until it answers `epoch` or newer, at most `limit`
//                               times → { reads, old, done, stats }: `old`, the answers older meanwhile
//   spin { id }                 start calling item(id) back to back (one macrotask apart), recording
//                               each answer's epoch, when the call started, and the tier's state → {}
//   until { epoch, after, limit }  keep spinning until an answer has `epoch` or newer, the tier is
//                               ready and `limit` more calls have been made after it; then stop and
//                               → { staleAfter, reads, readsAfter, states, flushes, stats }: `staleAfter`,
//                               the calls that answered older although the call before them had
//                               already started after `after` (the writer's clock when its write resolved)
//   close                       close the cache → { }
//
// Environment: COH_STORE (JSON: the `store` config); COH_L1 (JSON: the `l1` config, default
// `{ maxEntries: 1000 }`); COH_POLL (clearPollInterval, default '1h': a clear() reaches another
// process only through the tier's invalidations, never through the poll).
import { cached, createCache } from 'cachette';
import { performance } from 'node:perf_hooks';

const store = JSON.parse(process.env.COH_STORE);
const l1 = process.env.COH_L1 ? JSON.parse(process.env.COH_L1) : { maxEntries: 1000 };
const quiet = { warn() {}, error() {} };
const cache = createCache({ store, namespace: 'coh', l1, logger: quiet, clearPollInterval: process.env.COH_POLL ?? '1h' });

let epoch = 0;
const item = cached(async (id) => ({ id, epoch }), { cache, name: 'item', ttl: '1h', tags: (id) => [`item:${id}`, 'all'] });

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const macrotask = () => new Promise((resolve) => setImmediate(resolve));
const stats = () => {
  const s = typeof item.stats === 'function' ? item.stats() : item.stats;
  return { hits: s.hits, l1Hits: s.l1Hits, misses: s.misses, errors: s.errors };
};
const l1Health = () => cache.health().l1;

async function write(message) {
  switch (message.op) {
    case 'miss':
      await item(message.id, { cacheRead: false });
      break;
    case 'refresh':
      await item.refresh(message.id);
      break;
    case 'forceRefresh':
      await item(message.id, { forceRefresh: true });
      break;
    case 'invalidate':
      await item.invalidate(message.id);
      break;
    case 'invalidateTags':
      await cache.invalidateTags(message.tags);
      break;
    case 'clear':
      await cache.clear();
      break;
    default:
      throw new Error(`unknown write ${message.op}`);
  }
}

/** The spin loop: every answer's epoch and start time, and the tier's states in the order seen. */
let spin;

async function spinLoop(state) {
  while (!state.stopped) {
    const start = now();
    const value = await item(state.id);
    state.starts.push(start);
    state.epochs.push(value.epoch);
    const l1State = l1Health()?.state ?? 'none';
    if (state.states.at(-1) !== l1State) state.states.push(l1State);
    const target = state.target;
    if (target !== undefined) {
      if (target.seenAt === undefined && value.epoch >= target.epoch && l1State === 'ready') target.seenAt = state.epochs.length;
      if ((target.seenAt !== undefined && state.epochs.length - target.seenAt >= target.limit) || state.epochs.length >= target.bound) {
        state.stopped = true;
        target.done();
        return;
      }
    }
    await macrotask();
  }
}

// Open the connections and the tier before the parent starts: one call on a key of this process's own,
// then wait (bounded) for the tier to be ready.
await item(-process.pid);
for (let i = 0; i < 20_000 && l1Health()?.state !== 'ready'; i++) await sleep(1);
process.send({ type: 'ready', l1: l1Health() ?? null });

process.on('message', async (message) => {
  const { seq } = message;
  const reply = (data) => process.send({ type: 'reply', seq, ...data });
  try {
    switch (message.type) {
      case 'epoch':
        epoch = message.epoch;
        reply({});
        break;
      case 'call': {
        const value = message.options ? await item(message.id, message.options) : await item(message.id);
        reply({ value, stats: stats(), l1: l1Health() ?? null });
        break;
      }
      case 'write':
        await write(message);
        reply({ at: now() });
        break;
      case 'health':
        reply({ l1: l1Health() ?? null, connection: cache.health().connection });
        break;
      case 'watch': {
        let old = 0;
        for (let reads = 1; reads <= message.limit; reads++) {
          const value = await item(message.id);
          if (value.epoch >= message.epoch) {
            reply({ reads, old, done: true, stats: stats() });
            return;
          }
          old++;
          await sleep(1);
        }
        reply({ reads: message.limit, old, done: false, stats: stats() });
        break;
      }
      case 'spin':
        spin = { id: message.id, stopped: false, starts: [], epochs: [], states: [], target: undefined };
        spin.loop = spinLoop(spin);
        reply({});
        break;
      case 'until': {
        const state = spin;
        await new Promise((resolve) => {
          state.target = { epoch: message.epoch, limit: message.limit, bound: state.epochs.length + message.bound, done: resolve };
        });
        await state.loop;
        // A call counts once the call before it also started after the write resolved: between the
        // two, this process polled its sockets at least once after the write (one macrotask apart), so
        // an invalidation the server sent before answering the writer had been read.
        let staleAfter = 0;
        let readsAfter = 0;
        for (let i = 1; i < state.starts.length; i++) {
          if (state.starts[i - 1] <= message.after) continue;
          readsAfter++;
          if (state.epochs[i] < message.epoch) staleAfter++;
        }
        spin = undefined;
        reply({
          staleAfter,
          reads: state.starts.length,
          readsAfter,
          reached: state.target.seenAt !== undefined,
          states: state.states,
          flushes: l1Health()?.flushes ?? null,
          stats: stats(),
        });
        break;
      }
      case 'close':
        await cache.close();
        reply({});
        break;
    }
  } catch (error) {
    process.send({ type: 'failed', seq, error: String(error) });
  }
});
