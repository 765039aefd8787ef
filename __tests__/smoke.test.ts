import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { cached, createCache } from '../lib/index.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
let r: TestRedis;
beforeAll(async () => { r = await startRedis(); });
afterAll(async () => { await r.stop(); });
it('works', async () => {
  const cache = createCache({ store: { type: 'redis', url: r.url }, namespace: 'n1' });
  let n = 0;
  const f = cached(async (id: number) => ({ id, n: ++n }), { cache, name: 'user', ttl: '10s' });
  expect(await f(1)).toEqual({ id: 1, n: 1 });
  expect(await f(1)).toEqual({ id: 1, n: 1 });
  console.log(f.keyFor(1), await r.admin.get(f.keyFor(1)), await r.admin.pTTL(f.keyFor(1)), f.stats);
  expect(await f(1, { ttl: 60000 })).toEqual({ id: 1, n: 1 });
  console.log(await r.admin.pTTL(f.keyFor(1)));
  const g = cached(async () => null, { cache, name: 'nul' });
  await g(); await g(); console.log(g.stats, await r.admin.get(g.keyFor()));
  await cache.close();
});
