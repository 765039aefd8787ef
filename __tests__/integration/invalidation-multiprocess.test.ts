/**
 * Tags and clearing across real processes on one redis-server: the shared
 * `helpers/invalidation-suite.ts`, whose children connect with `store: { type: 'redis', url }`.
 */
import { builtWith } from '../helpers/build.js';
import { invalidationSuite } from '../helpers/invalidation-suite.js';
import { startRedis } from '../helpers/redis-server.js';

const redis = builtWith(startRedis);

invalidationSuite('standalone Redis', () => ({
  store: () => ({ type: 'redis', url: redis().url }),
  ownerOf: async () => redis().admin,
  flushAll: async () => void (await redis().admin.flushAll()),
}));
