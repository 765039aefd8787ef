/**
 * The in-process tier across 3 real processes on one redis-server: the shared
 * `helpers/coherence-suite.ts`, whose children connect with `store: { type: 'redis', url }`.
 */
import { builtWith } from '../helpers/build.js';
import { coherenceSuite } from '../helpers/coherence-suite.js';
import { startRedis } from '../helpers/redis-server.js';

const redis = builtWith(startRedis);

coherenceSuite('standalone Redis', () => ({
  store: () => ({ type: 'redis', url: redis().url }),
  masters: () => [redis().admin],
  ownerOf: async () => redis().admin,
  flushAll: async () => void (await redis().admin.flushAll()),
}));
