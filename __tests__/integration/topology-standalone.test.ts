/**
 * The shared behaviour (`helpers/topology-suite.ts`) on one standalone redis-server, started once for
 * the file and reached with `store: { type: 'redis', url }`.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { freePorts } from '../helpers/redis-process.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { dataNode, topologySuite, type DataNode } from '../helpers/topology-suite.js';

let redis: TestRedis;
let node: DataNode;

beforeAll(async () => {
  redis = await startRedis();
  node = dataNode(`${redis.host}:${redis.port}`, redis.admin);
});
afterAll(async () => {
  await redis.stop();
});

topologySuite('standalone', () => ({
  owners: 1,
  store: () => ({ type: 'redis', url: redis.url }),
  async unreachableStore() {
    const [port] = await freePorts(1);
    return { type: 'redis', url: `redis://127.0.0.1:${port}` };
  },
  ownerOf: async () => node,
  owningNodes: () => [node],
}));
