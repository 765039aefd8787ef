// A throwaway local Redis Cluster for `npm run bench` (bench/run.mjs): 3 masters with one replica each,
// started from the `redis-server` on PATH and joined with `redis-cli --cluster create`, as the tests'
// __tests__/helpers/cluster.ts does (same settings, no jest code). Every node keeps its nodes.conf in one
// temp dir; `stop()` SIGKILLs every node and removes it, and so does the process 'exit' hook, so no node
// outlives the bench however it ends.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';

const NODES = 6;
const READY_LIMIT_MS = 30_000;

/** Every node process started and every temp dir made, for the exit hook. */
const running = new Set();
const dirs = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** `count` free ports on 127.0.0.1 whose cluster bus port (port + 10000) is free too. */
async function freeClusterPorts(count) {
  const ports = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 2000) throw new Error(`found ${ports.length} of ${count} free ports`);
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (ports.some((p) => Math.abs(p - port) % 10_000 === 0)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

/** Poll `check` every 50 ms until it returns true, or fail after `limitMs`. */
async function waitFor(what, check, limitMs) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Start the cluster and wait until every node says `cluster_state:ok`, knows all 6 nodes and every
 * replica's link to its master is up. Resolves to `{ rootNodes, nodes, masters(), stop() }`; each node
 * has a plain `client` (no offline queue) for INFO and CONFIG RESETSTAT.
 */
export async function startCluster() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cachette-bench-cluster-'));
  dirs.add(root);
  const nodes = [];
  const stop = async () => {
    for (const node of nodes) node.client.destroy();
    for (const node of nodes) {
      if (node.process.exitCode === null && node.process.signalCode === null) {
        const exited = new Promise((resolve) => node.process.once('exit', resolve));
        node.process.kill('SIGKILL');
        await exited;
      }
      running.delete(node.process);
    }
    rmSync(root, { recursive: true, force: true });
    dirs.delete(root);
  };
  try {
    const ports = await freeClusterPorts(NODES);
    for (const port of ports) {
      const dir = path.join(root, String(port));
      mkdirSync(dir);
      const child = spawn('redis-server', [
        '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000',
        '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0',
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', path.join(dir, 'redis.log'),
      ], { stdio: 'ignore' });
      running.add(child);
      child.on('error', () => {});
      const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: 50 }, disableOfflineQueue: true, RESP: 2 });
      client.on('error', () => {});
      nodes.push({ port, process: child, client });
    }
    for (const node of nodes) {
      void node.client.connect().catch(() => {});
      await waitFor(`redis-server on port ${node.port}`, async () => (await node.client.ping()) === 'PONG', 10_000);
    }
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: READY_LIMIT_MS },
    );
    await waitFor(
      'the cluster to agree and every replica to be attached',
      async () => {
        for (const node of nodes) {
          const info = String(await node.client.sendCommand(['CLUSTER', 'INFO']));
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_known_nodes:6') || !info.includes('cluster_slots_ok:16384')) return false;
          const replication = String(await node.client.info('replication'));
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return true;
      },
      READY_LIMIT_MS,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    rootNodes: nodes.map((node) => ({ url: `redis://127.0.0.1:${node.port}` })),
    nodes,
    /** The nodes that are masters now. */
    async masters() {
      const masters = [];
      for (const node of nodes) if (String(await node.client.info('replication')).includes('role:master')) masters.push(node);
      return masters;
    },
    stop,
  };
}
