/**
 * The in-process tier across 3 real processes on one redis-server: the shared
 * `helpers/coherence-suite.ts`, whose children connect with `store: { type: 'redis', url }`.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { ensureBuilt } from '../helpers/build.js';
import { coherenceSuite } from '../helpers/coherence-suite.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  await ensureBuilt();
  redis = await startRedis();
}, 180_000);
afterAll(async () => {
  await redis?.stop();
});

coherenceSuite('standalone Redis', () => ({
  store: () => ({ type: 'redis', url: redis.url }),
  masters: () => [redis.admin],
  ownerOf: async () => redis.admin,
  flushAll: async () => void (await redis.admin.flushAll()),
}));
