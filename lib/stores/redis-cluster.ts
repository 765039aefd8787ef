/**
 * Redis Cluster for the Redis store: telling a node-redis cluster object from a client, the cluster
 * the store creates for itself (`createCluster`), hash slots, and one circuit breaker per master so
 * that a dead master costs only the hits of its own slots.
 * @module
 */
import { createCluster } from 'redis';
import { CircuitBreaker, type BreakerOptions, type StoreHealth } from './breaker.js';
import { connectTimeoutFor } from './redis-client.js';

/** Settings every node of a cluster gets (node-redis `createCluster`'s `defaults`). */
export interface RedisClusterDefaults {
  /** ACL user name for every node. */
  username?: string;
  /** Password for every node (never logged, never in error messages). */
  password?: string;
  /** `true` for TLS with Node's defaults on every node, or Node `tls.connect` options. @defaultValue false */
  tls?: boolean | Record<string, unknown>;
}

/** A Redis Cluster reached through node-redis' `createCluster`. */
export interface RedisClusterOptions {
  /**
   * Nodes to discover the cluster from (`redis[s]://[[user]:password@]host:port`); one is enough.
   * Credentials and `rediss://` in the first URL apply to every node unless `defaults` sets them.
   */
  rootNodes: Array<{
    /** `redis[s]://[[user]:password@]host:port` of one node; user, password and TLS reach every node unless `defaults` sets them. */
    url: string;
  }>;
  /** Credentials and TLS for every node, discovered ones included. */
  defaults?: RedisClusterDefaults;
  /** Send reads (`GET`, `MGET`) to replicas too. Sliding TTL (`GETEX`) still goes to masters. @defaultValue false */
  useReplicas?: boolean;
}

/** The parts of a node-redis cluster object the store uses besides the client methods. */
export interface RedisClusterLike {
  /** Per slot (0 … 16383), its master (and replicas); `address` is `host:port`. */
  readonly slots: ReadonlyArray<
    | {
        /** The master serving the slot. */
        master: {
          /** Its `host:port`. */
          address: string;
        };
      }
    | undefined
  >;
  /** The current masters. */
  readonly masters: ReadonlyArray<{
    /** The master's `host:port`. */
    address: string;
  }>;
  /** node-redis cluster `sendCommand(firstKey, isReadonly, args)`: routed by `firstKey`'s slot. */
  sendCommand(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>;
  /** The client of one node. */
  nodeClient(node: unknown): unknown;
}

/** True for a node-redis cluster object (`createCluster()`), connected or not. @internal */
export function isCluster(client: unknown): client is RedisClusterLike {
  const candidate = client as { nodeClient?: unknown; sendCommand?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.nodeClient === 'function' && typeof candidate.sendCommand === 'function';
}

/**
 * The cluster the store creates: every node without offline queue (a command for a dead master
 * fails at once instead of waiting 5 s in node-redis' queue), without node-redis' command timeout
 * (the store's deadlines bound operations), RESP2, and with the credentials and TLS of `defaults`,
 * or else of the first root URL, since node-redis uses root URLs only to discover the cluster.
 * @internal
 */
export function createOwnCluster(options: RedisClusterOptions, timeoutMs: number): unknown {
  const first = firstUrl(options.rootNodes[0]?.url);
  const given = options.defaults ?? {};
  const username = given.username ?? first?.username;
  const password = given.password ?? first?.password;
  const tls = given.tls ?? (first?.tls === true ? true : undefined);
  const socket: Record<string, unknown> = {
    connectTimeout: connectTimeoutFor(timeoutMs),
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000) + Math.floor(Math.random() * 50),
  };
  if (tls) Object.assign(socket, { tls: true }, typeof tls === 'object' ? tls : {});
  return createCluster({
    rootNodes: options.rootNodes.map((node) => ({ url: node.url })),
    useReplicas: options.useReplicas === true,
    RESP: 2,
    commandOptions: { timeout: 0 },
    defaults: {
      disableOfflineQueue: true,
      socket,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    },
  });
}

function firstUrl(url: string | undefined): { username?: string; password?: string; tls: boolean } | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
    return {
      ...(username !== undefined ? { username } : {}),
      ...(parsed.password !== '' ? { password: decodeURIComponent(parsed.password) } : {}),
      tls: parsed.protocol === 'rediss:',
    };
  } catch {
    return undefined;
  }
}

/** CRC16-CCITT (XModem) table, the hash Redis Cluster uses for slots. */
const CRC16 = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** The hash slot (0 … 16383) of `key`, hash tags (`{…}`) included, as Redis computes it. @internal */
export function keySlot(key: string): number {
  // The part hashed: the first `{…}` with something inside, else the whole key.
  let from = 0;
  let to = key.length;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  // ASCII keys (the usual case) are hashed from their char codes, without encoding them.
  let crc = 0;
  for (let i = from; i < to; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return slotOfBytes(key);
    crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ code) & 0xff]!;
  }
  return crc & 16383;
}

/** {@link keySlot} over the UTF-8 bytes of a key that is not all ASCII. */
function slotOfBytes(key: string): number {
  let bytes = Buffer.from(key);
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff]!;
  return crc & 16383;
}

/**
 * One circuit breaker per master address, made on first use. A key's breaker is its slot's master's
 * as the cluster client sees it now: after a failover the promoted replica has a new address, so
 * its breaker starts closed, and hits on those slots resume as soon as the client routes there.
 * @internal
 */
export class NodeBreakers {
  readonly #byAddress = new Map<string, CircuitBreaker>();

  constructor(
    private readonly cluster: RedisClusterLike,
    private readonly options: BreakerOptions,
  ) {}

  /** The breaker of the master serving `key`'s slot (`'unknown'` before the topology is known). */
  forKey(key: string): CircuitBreaker {
    const address = this.cluster.slots[keySlot(key)]?.master.address ?? 'unknown';
    let breaker = this.#byAddress.get(address);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(`redis ${address}`, this.options);
      this.#byAddress.set(address, breaker);
    }
    return breaker;
  }

  /**
   * The cluster's health: the least healthy current master's state and failures (`'open'` while any
   * master is skipped; before any master is known, the state of the breaker keys share meanwhile),
   * openings summed over every node ever used. A master replaced by a failover
   * no longer counts: its breaker stays open, but no key is routed to it.
   */
  health(): Omit<StoreHealth, 'connection'> {
    const rank = { closed: 0, 'half-open': 1, open: 2 } as const;
    const current = new Set(this.cluster.masters.map((master) => master.address));
    let worst: StoreHealth | undefined;
    let opens = 0;
    for (const [address, breaker] of this.#byAddress) {
      const health = breaker.health();
      opens += health.opens;
      // Before any master is known (a cluster that cannot be reached), keys share the 'unknown' breaker.
      if (!current.has(address) && !(address === 'unknown' && current.size === 0)) continue;
      if (worst === undefined || rank[health.state] > rank[worst.state] || (health.state === worst.state && health.consecutiveFailures > worst.consecutiveFailures)) worst = health;
    }
    if (worst === undefined) return { store: 'redis', state: 'closed', consecutiveFailures: 0, opens };
    return { ...worst, store: 'redis', opens };
  }
}
