/**
 * A real Sentinel setup for tests: a primary, a replica (`--replicaof`) and 3 sentinels, all started
 * from the system `redis-server` found on PATH (`REDISMS_SYSTEM_BINARY` wins when set; no Docker).
 *
 * Each sentinel is `redis-server <conf> --sentinel` with a conf file of its own in its own temp dir
 * (sentinels rewrite their conf), monitoring `mymaster` with quorum 2, `down-after-milliseconds` 1000
 * and `failover-timeout` 5000. Nothing is persisted. Every wait is a bounded poll; no process outlives
 * the test run (see `redis-process.ts`).
 *
 * ```ts
 * const sentinel = await startSentinel();
 * const client = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinelRootNodes });
 * const before = sentinel.primary;
 * await sentinel.failover(); // sentinel.primary is now the other node
 * await sentinel.stop();
 * ```
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, RedisProcess, TopologyDir, waitFor, type Inspector } from './redis-process.js';

const NAME = 'mymaster';
const SENTINELS = 3;
/** Generous bounds for noisy CI machines; a healthy run needs a fraction of them. */
const READY_LIMIT_MS = 30_000;
const FAILOVER_LIMIT_MS = 30_000;

/** A data node (the primary or the replica); `role` follows failovers. */
export interface SentinelDataNode {
  readonly host: string;
  readonly port: number;
  readonly role: 'primary' | 'replica';
  /** False between `sigkill(node)` and `start(node)`. */
  readonly alive: boolean;
  /** A plain client of this node (RESP2, no offline queue: commands fail at once while it is down). */
  readonly inspect: Inspector;
}

/** A sentinel process. */
export interface SentinelNode {
  readonly host: string;
  readonly port: number;
  readonly alive: boolean;
  /** A plain client of this sentinel (RESP2): `inspect.sendCommand(['SENTINEL', …])`. */
  readonly inspect: Inspector;
}

/** A running Sentinel setup and the means to hurt it. */
export interface TestSentinel {
  /** The monitored master's name, for node-redis `createSentinel({ name })`. */
  readonly name: string;
  /** For node-redis `createSentinel({ sentinelRootNodes })`. */
  readonly sentinelRootNodes: Array<{ host: string; port: number }>;
  /** The node the sentinels last agreed is primary. */
  readonly primary: SentinelDataNode;
  /** The other data node. */
  readonly replica: SentinelDataNode;
  readonly sentinels: readonly SentinelNode[];
  /**
   * `SENTINEL FAILOVER`, then wait (bounded) until every live sentinel names the other node as primary
   * and it says `role:master`. Resolves to the new primary. The old primary may still say `role:master`
   * for a few seconds more, until a sentinel demotes it.
   */
  failover(): Promise<SentinelDataNode>;
  /** Kill a data node or a sentinel with SIGKILL and wait until the process has exited. */
  sigkill(node: SentinelDataNode | SentinelNode): Promise<void>;
  /** Start a killed node again on its port and dir. */
  start(node: SentinelDataNode | SentinelNode): Promise<void>;
  /** Kill every process, close the inspection clients, remove the temp dirs. */
  stop(): Promise<void>;
}

interface MutableDataNode extends SentinelDataNode {
  role: 'primary' | 'replica';
  readonly process: RedisProcess;
}
interface MutableSentinelNode extends SentinelNode {
  readonly process: RedisProcess;
}

function handle<T extends object>(process: RedisProcess, extra: T) {
  return Object.assign(
    {
      host: process.host,
      port: process.port,
      get alive() {
        return process.alive;
      },
      inspect: process.inspect,
      process,
    },
    extra,
  );
}

/** A RESP2 flat `[field, value, field, value …]` array as a record. */
function record(reply: unknown): Record<string, string> {
  const fields = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = String(fields[i + 1]);
  return out;
}

/**
 * Start the primary, its replica and 3 sentinels, and wait until every sentinel names the primary,
 * sees the replica healthy and knows the 2 other sentinels, and the replica's link is up.
 */
export async function startSentinel(): Promise<TestSentinel> {
  const dir = new TopologyDir('sentinel');
  const processes: RedisProcess[] = [];
  const data: MutableDataNode[] = [];
  const sentinels: MutableSentinelNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
    dir.remove();
  };
  try {
    const [primaryPort, replicaPort, ...sentinelPorts] = await freePorts(2 + SENTINELS);
    // No 5 s wait for more replicas before a (diskless) full sync: a replica attaches at once.
    const dataArgs = ['--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];
    const primary = new RedisProcess(primaryPort!, dir.nodeDir(`primary-${primaryPort}`), dataArgs);
    const replica = new RedisProcess(replicaPort!, dir.nodeDir(`replica-${replicaPort}`), [
      ...dataArgs,
      '--replicaof', '127.0.0.1', String(primaryPort),
    ]);
    processes.push(primary, replica);
    data.push(handle(primary, { role: 'primary' }), handle(replica, { role: 'replica' }));
    for (const port of sentinelPorts) {
      const sentinelDir = dir.nodeDir(`sentinel-${port}`);
      const conf = join(sentinelDir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${NAME} 1000`,
          `sentinel failover-timeout ${NAME} 5000`,
          '',
        ].join('\n'),
      );
      const process = new RedisProcess(port, sentinelDir, [conf, '--sentinel']);
      processes.push(process);
      sentinels.push(handle(process, {}));
    }
    await primary.start();
    await replica.start();
    // A sentinel finds replicas in the primary's INFO, which it reads at once and then every 10 s:
    // start the sentinels only once the replica is attached, so the first read finds it.
    await waitFor(
      'the replica to attach to the primary',
      async () => String(await replica.inspect.info('replication')).includes('master_link_status:up'),
      READY_LIMIT_MS,
    );
    await Promise.all(processes.slice(2).map((p) => p.start()));
  } catch (error) {
    await stop();
    throw error;
  }

  const current = (role: 'primary' | 'replica'): MutableDataNode => data.find((node) => node.role === role)!;

  /**
   * True when every live sentinel names `primary` and knows the others, and `primary` says
   * `role:master`. With `replicaAttached`, the other node's link to it is up and every sentinel lists it
   * as a healthy replica too. `failover()` does not wait for that: a sentinel demotes a live old primary
   * only after it has reported `role:master` for 8 s, and learns of the new replica from its 10 s `INFO`.
   */
  const agreed = async (primary: MutableDataNode, replicaAttached: boolean): Promise<boolean> => {
    const other = data.find((node) => node !== primary)!;
    const liveSentinels = sentinels.filter((s) => s.alive);
    for (const sentinel of liveSentinels) {
      const address = (await sentinel.inspect.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME])) as string[];
      if (Number(address[1]) !== primary.port) return false;
      const master = record(await sentinel.inspect.sendCommand(['SENTINEL', 'MASTER', NAME]));
      if (master.flags !== 'master' || Number(master['num-other-sentinels']) < liveSentinels.length - 1) return false;
      if (replicaAttached && other.alive) {
        const replicas = ((await sentinel.inspect.sendCommand(['SENTINEL', 'REPLICAS', NAME])) as unknown[]).map(record);
        const seen = replicas.find((r) => Number(r.port) === other.port);
        if (!seen || seen.flags !== 'slave' || seen['master-link-status'] !== 'ok') return false;
      }
    }
    if (!String(await primary.inspect.info('replication')).includes('role:master')) return false;
    if (replicaAttached && other.alive && !String(await other.inspect.info('replication')).includes('master_link_status:up')) return false;
    return true;
  };

  try {
    await waitFor('the sentinels to agree on the primary, the replica and each other', () => agreed(current('primary'), true), READY_LIMIT_MS);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    name: NAME,
    sentinelRootNodes: sentinels.map((s) => ({ host: s.host, port: s.port })),
    get primary() {
      return current('primary');
    },
    get replica() {
      return current('replica');
    },
    sentinels,
    async failover() {
      const next = current('replica');
      const asked = sentinels.find((s) => s.alive);
      if (!asked) throw new Error('failover: no sentinel is alive');
      await asked.inspect.sendCommand(['SENTINEL', 'FAILOVER', NAME]);
      await waitFor(`the sentinels to name port ${next.port} as primary`, () => agreed(next, false), FAILOVER_LIMIT_MS);
      for (const node of data) node.role = node === next ? 'primary' : 'replica';
      return next;
    },
    async sigkill(node) {
      await (node as MutableDataNode | MutableSentinelNode).process.sigkill();
    },
    async start(node) {
      await (node as MutableDataNode | MutableSentinelNode).process.start();
    },
    stop,
  };
}
