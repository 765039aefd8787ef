/**
 * A real Redis Cluster for tests: 3 masters with one replica each, started from the system
 * `redis-server` and joined with the system `redis-cli --cluster create` (no Docker). Both binaries are
 * looked up on PATH when the test starts (`REDISMS_SYSTEM_BINARY` / `REDIS_CLI_BINARY` win when set);
 * on Debian they come from the `redis-server` and `redis-tools` packages, which `.ci/run` installs when
 * missing.
 *
 * Each node listens on a free 127.0.0.1 port whose cluster bus port (port + 10000) is free too, and
 * keeps its `nodes.conf`, log and pid file in a temp dir of its own. Nothing is persisted
 * (`--save '' --appendonly no`): a node started again after a SIGKILL comes back empty and rejoins as
 * a replica. `--cluster-node-timeout 2000` sets the pace of failure detection, so a failover takes a
 * few seconds. Every wait is a bounded poll; no process outlives the test run (see `redis-process.ts`).
 *
 * ```ts
 * const cluster = await startCluster();
 * const client = createCluster({ rootNodes: cluster.rootNodes });
 * const owner = await cluster.masterOf('user:1');
 * await cluster.sigkill(owner);
 * const promoted = await cluster.waitForFailover(owner);
 * await cluster.stop();
 * ```
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findRedisCli, freePorts, RedisProcess, TopologyDir, waitFor, type Inspector } from './redis-process.js';

const MASTERS = 3;
const NODES = MASTERS * 2;
/** Generous bounds for noisy CI machines; a healthy run needs a fraction of them. */
const READY_LIMIT_MS = 30_000;
const FAILOVER_LIMIT_MS = 30_000;

/** One cluster node. `role` and `slots` follow failovers (updated by the helper's waits). */
export interface ClusterNode {
  readonly host: string;
  readonly port: number;
  /** The node's cluster id (it keeps it across a restart: `nodes.conf` survives). */
  readonly id: string;
  readonly role: 'master' | 'replica';
  /** For a master, the slot ranges it serves, `[from, to]` inclusive; empty for a replica. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
  /** For a replica, the id of its master. */
  readonly masterId: string | undefined;
  /** False between `sigkill(node)` and `start(node)`. */
  readonly alive: boolean;
  /** A plain client of this node (RESP2, no offline queue: commands fail at once while it is down). */
  readonly inspect: Inspector;
}

/** A running cluster and the means to hurt it. */
export interface TestCluster {
  /** For node-redis `createCluster({ rootNodes })`: one entry per node. */
  readonly rootNodes: Array<{ url: string }>;
  /** All six nodes, masters first as created. */
  readonly nodes: readonly ClusterNode[];
  /** The nodes currently master, as last seen by the helper. */
  masters(): ClusterNode[];
  /** Kill a node with SIGKILL (no shutdown) and wait until the process has exited. */
  sigkill(node: ClusterNode): Promise<void>;
  /** Start a killed node again on its port and dir, and wait until the cluster agrees on it again. */
  start(node: ClusterNode): Promise<void>;
  /** The master serving `key`'s slot, asked of a live node (`CLUSTER KEYSLOT`, `CLUSTER SLOTS`). */
  masterOf(key: string): Promise<ClusterNode>;
  /**
   * After `sigkill(deadMaster)`: wait (bounded) until one of its replicas is master of its slots in
   * every live node's view and every live node says `cluster_state:ok`; resolves to the new master.
   */
  waitForFailover(deadMaster: ClusterNode): Promise<ClusterNode>;
  /** Kill every node, close the inspection clients, remove the temp dirs. */
  stop(): Promise<void>;
}

interface MutableNode extends ClusterNode {
  id: string;
  role: 'master' | 'replica';
  slots: Array<[number, number]>;
  masterId: string | undefined;
  readonly process: RedisProcess;
}

/** One line of `CLUSTER NODES`. */
interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string | undefined;
  connected: boolean;
  slots: Array<[number, number]>;
}

function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , link = '', ...slots] = line.trim().split(' ');
      const port = Number(/:(\d+)@/.exec(address)?.[1] ?? NaN);
      return {
        id,
        port,
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        connected: link === 'connected',
        // "[slot->-node]" entries are slots being migrated; none here.
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s): [number, number] => {
            const [from, to = from] = s.split('-');
            return [Number(from), Number(to)];
          }),
      };
    });
}

const BAD_FLAGS = ['fail', 'fail?', 'handshake', 'noaddr'];

/**
 * Start 6 nodes, join them as 3 masters with one replica each, and wait until every node says
 * `cluster_state:ok`, all agree on who serves what, and every replica's link to its master is up.
 */
export async function startCluster(): Promise<TestCluster> {
  const cli = findRedisCli();
  const dir = new TopologyDir('cluster');
  const nodes: MutableNode[] = [];
  try {
    const ports = await freePorts(NODES, 10_000);
    for (const port of ports) {
      const nodeDir = dir.nodeDir(String(port));
      const process = new RedisProcess(port, nodeDir, [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', join(nodeDir, 'nodes.conf'),
        '--cluster-node-timeout', '2000',
        '--save', '',
        '--appendonly', 'no',
        // No 5 s wait for more replicas before a (diskless) full sync: a replica attaches at once.
        '--repl-diskless-sync-delay', '0',
      ]);
      nodes.push({
        host: process.host,
        port,
        id: '',
        role: 'master',
        slots: [],
        masterId: undefined,
        get alive() {
          return process.alive;
        },
        inspect: process.inspect,
        process,
      });
    }
    await Promise.all(nodes.map((node) => node.process.start()));
    await promisify(execFile)(
      cli,
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: READY_LIMIT_MS },
    );
  } catch (error) {
    await Promise.all(nodes.map((node) => node.process.stop()));
    dir.remove();
    throw error;
  }

  const live = (): MutableNode[] => nodes.filter((node) => node.alive);
  const byId = (id: string): MutableNode | undefined => nodes.find((node) => node.id === id);

  /**
   * True when every live node says `cluster_state:ok`, sees every other live node connected and
   * healthy, and all of them agree on the masters, their slots and the replicas; the handles are then
   * updated from that view. `extra` adds a condition on the view.
   */
  const agreed = async (extra: (view: NodeLine[]) => boolean = () => true): Promise<boolean> => {
    const views: NodeLine[][] = [];
    for (const node of live()) {
      const info = await node.inspect.clusterInfo();
      if (!String(info).includes('cluster_state:ok')) return false;
      const view = parseNodes(String(await node.inspect.clusterNodes()));
      for (const other of live()) {
        const line = view.find((l) => l.port === other.port);
        if (!line || (!line.flags.includes('myself') && !line.connected) || line.flags.some((f) => BAD_FLAGS.includes(f))) {
          return false;
        }
      }
      views.push(view);
    }
    const livePorts = new Set(live().map((node) => node.port));
    const summary = (view: NodeLine[]): string =>
      view
        .filter((l) => livePorts.has(l.port))
        .map((l) => `${l.port} ${l.flags.includes('master') ? 'master' : 'replica'} ${l.masterId ?? '-'} ${JSON.stringify(l.slots)}`)
        .sort()
        .join('\n');
    const first = views[0];
    if (!first || views.some((view) => summary(view) !== summary(first)) || !extra(first)) return false;
    for (const node of live()) {
      const line = first.find((l) => l.port === node.port)!;
      if (line.flags.includes('slave')) {
        const replication = String(await node.inspect.info('replication'));
        if (!replication.includes('master_link_status:up')) return false;
      }
    }
    for (const line of first) {
      const node = nodes.find((n) => n.port === line.port);
      if (!node) continue;
      node.id = line.id;
      if (!node.alive) continue;
      node.role = line.flags.includes('master') ? 'master' : 'replica';
      node.slots = node.role === 'master' ? line.slots : [];
      node.masterId = line.masterId;
    }
    return true;
  };

  const cluster: TestCluster = {
    rootNodes: nodes.map((node) => ({ url: node.process.url })),
    nodes,
    masters: () => nodes.filter((node) => node.role === 'master'),
    async sigkill(node) {
      await (node as MutableNode).process.sigkill();
    },
    async start(node) {
      await (node as MutableNode).process.start();
      await waitFor(`node ${node.port} to rejoin the cluster`, () => agreed(), READY_LIMIT_MS);
    },
    async masterOf(key) {
      const asked = live()[0];
      if (!asked) throw new Error('masterOf: no node is alive');
      const slot = Number(await asked.inspect.clusterKeySlot(key));
      const range = (await asked.inspect.clusterSlots()).find((r) => r.from <= slot && slot <= r.to);
      const owner = range && nodes.find((node) => node.port === range.master.port);
      if (!owner) throw new Error(`masterOf: no node serves slot ${slot}`);
      return owner;
    },
    async waitForFailover(deadMaster) {
      const dead = deadMaster as MutableNode;
      const orphaned = JSON.stringify(dead.slots);
      let promoted: MutableNode | undefined;
      await waitFor(
        `a replica of node ${dead.port} to take over its slots`,
        () =>
          agreed((view) => {
            const line = view.find((l) => l.flags.includes('master') && l.port !== dead.port && JSON.stringify(l.slots) === orphaned);
            promoted = line && nodes.find((node) => node.port === line.port);
            return promoted !== undefined && promoted.masterId === dead.id;
          }),
        FAILOVER_LIMIT_MS,
      );
      // The dead node is a master without slots now; it rejoins as a replica when started again.
      dead.role = 'replica';
      dead.slots = [];
      dead.masterId = promoted!.id;
      return promoted!;
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.process.stop()));
      dir.remove();
    },
  };

  try {
    await waitFor('the cluster to agree and every replica to be attached', () => agreed(), READY_LIMIT_MS);
    if (cluster.masters().length !== MASTERS || nodes.some((n) => n.role === 'replica' && !byId(n.masterId ?? ''))) {
      throw new Error(`expected ${MASTERS} masters with one replica each`);
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
