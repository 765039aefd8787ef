/**
 * Tags and clearing across real processes on Redis Sentinel (a primary, a replica and 3 sentinels,
 * started once for the file): the shared `helpers/invalidation-suite.ts`, whose children connect with
 * `store: { type: 'redis', sentinel: { name, sentinelRootNodes } }`. Keys are checked on the primary.
 */
import { builtWith } from '../helpers/build.js';
import { invalidationSuite } from '../helpers/invalidation-suite.js';
import { startSentinel } from '../helpers/sentinel.js';

const sentinel = builtWith(startSentinel);

invalidationSuite('Redis Sentinel', () => ({
  store: () => ({ type: 'redis', sentinel: { name: sentinel().name, sentinelRootNodes: sentinel().sentinelRootNodes } }),
  ownerOf: async () => sentinel().primary.inspect,
  flushAll: async () => void (await sentinel().primary.inspect.flushAll()),
}));
