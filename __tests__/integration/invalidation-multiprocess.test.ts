/**
 * Tags and clearing across real processes on one redis-server: the shared
 * `helpers/invalidation-suite.ts`, whose children connect with `store: { type: 'redis', url }`.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { ensureBuilt } from '../helpers/build.js';
import { invalidationSuite } from '../helpers/invalidation-suite.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  await ensureBuilt();
  redis = await startRedis();
}, 180_000);
afterAll(async () => {
  await redis?.stop();
});

invalidationSuite('standalone Redis', () => ({
  store: () => ({ type: 'redis', url: redis.url }),
  ownerOf: async () => redis.admin,
  flushAll: async () => void (await redis.admin.flushAll()),
}));
