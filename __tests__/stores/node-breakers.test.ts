/**
 * One circuit breaker per cluster master (`NodeBreakers`): which breaker a key gets, and what
 * `health()` reports, including for a cluster whose topology was never learnt (nothing reachable).
 */
import { describe, expect, it } from '@jest/globals';
import { NodeBreakers, keySlot, type RedisClusterLike } from '../../lib/stores/redis-cluster.js';

function clusterOf(slotMasters: Array<string | undefined>): RedisClusterLike {
  const masters = [...new Set(slotMasters.filter((address): address is string => address !== undefined))].map((address) => ({ address }));
  const slots = Array.from({ length: 16384 }, (_, slot) => {
    const address = slotMasters[slot % slotMasters.length];
    return address === undefined ? undefined : { master: { address } };
  });
  return { slots, masters, sendCommand: async () => undefined, nodeClient: () => undefined };
}

const options = { threshold: 2, cooldownMs: 1000 };

describe('NodeBreakers', () => {
  it('reports open when a cluster was never reached and its shared breaker opened', () => {
    const breakers = new NodeBreakers(clusterOf([undefined]), options);
    const breaker = breakers.forKey('k');
    expect(breakers.health()).toMatchObject({ state: 'closed', opens: 0 });
    breaker.failed(new Error('ECONNREFUSED'));
    breaker.failed(new Error('ECONNREFUSED'));
    expect(breakers.health()).toMatchObject({ state: 'open', consecutiveFailures: 2, opens: 1 });
  });

  it('gives each key its master’s breaker, and reports the worst current master', () => {
    const breakers = new NodeBreakers(clusterOf(['10.0.0.1:7000', '10.0.0.2:7000']), options);
    const first = breakers.forKey('a');
    let other = 'b';
    for (let i = 0; breakers.forKey(other) === first; i++) other = `b${i}`;
    expect(keySlot(other) % 2).not.toBe(keySlot('a') % 2);
    breakers.forKey(other).failed(new Error('down'));
    breakers.forKey(other).failed(new Error('down'));
    expect(breakers.health()).toMatchObject({ state: 'open', opens: 1 });
    expect(first.health().state).toBe('closed');
  });

  it('forgets the shared breaker of an unknown topology once masters are known', () => {
    const cluster = clusterOf([undefined]) as { slots: RedisClusterLike['slots']; masters: RedisClusterLike['masters'] } & RedisClusterLike;
    const breakers = new NodeBreakers(cluster, options);
    breakers.forKey('k').failed(new Error('down'));
    breakers.forKey('k').failed(new Error('down'));
    const known = clusterOf(['10.0.0.1:7000']);
    Object.assign(cluster, { slots: known.slots, masters: known.masters });
    expect(breakers.health()).toMatchObject({ state: 'closed', opens: 1 });
  });
});
