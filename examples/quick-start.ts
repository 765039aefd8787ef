// The README's quick start as a file that is type-checked with the rest (`npm run typecheck`) and runs
// without a build (ts-node compiles lib/ on the fly):
//   node --loader ts-node/esm examples/quick-start.ts                                   memory store
//   REDIS_URL=redis://127.0.0.1:6379 node --loader ts-node/esm examples/quick-start.ts  Redis
// Two changes from the README so it runs anywhere: the store comes from REDIS_URL (memory without it),
// and getUser is a local stand-in for the README's HTTP fetch. It imports the sources so that it never
// type-checks against a stale or missing dist/.
import { cached, createCache } from '../lib/index.js'; // in your project: from 'cachette'

const url = process.env.REDIS_URL;
const cache = createCache({ store: url ? { type: 'redis', url } : { type: 'memory' }, namespace: 'app' });

async function getUser(id: number): Promise<{ id: number; name: string; loadedAt: string }> {
  await new Promise((resolve) => setTimeout(resolve, 100)); // a slow API
  return { id, name: `User ${id}`, loadedAt: new Date().toISOString() };
}

const user = cached(getUser, { cache, ttl: '5m' });

console.log(await user(1)); // miss: calls getUser, stores app:getUser:1 for 5 minutes
console.log(await user(1)); // hit: same loadedAt, one Redis GET
console.log(await user(1, { forceRefresh: true })); // calls getUser again and stores the fresh result
console.log(await user(1, { bypassCache: true })); // calls getUser, leaves the cache alone
console.log(user.keyFor(1), user.stats); // app:getUser:1 { hits: 1, misses: 1, bypasses: 1, refreshes: 1, … }
await cache.close();
