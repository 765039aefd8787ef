/**
 * Plain redis-server processes for the multi-node topologies (`cluster.ts`, `sentinel.ts`): free ports,
 * a temp dir per topology, one process per node started from the system binary, an inspection client
 * per node, bounded polling, and the guarantee that no process outlives the test run.
 *
 * No process outlives the run, three ways: `stop()` kills them (test files call it in `afterAll`); a
 * `process.on('exit')` hook SIGKILLs whatever is still running when the jest worker exits; and a small
 * watchdog process, started per topology, SIGKILLs every pid found in the topology's pid files and
 * removes its temp dir once the test process is gone (even if it was SIGKILLed itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createClient } from 'redis';
import { findRedisServer } from './redis-server.js';

/** The redis-cli binary: REDIS_CLI_BINARY, else the first `redis-cli` on PATH. */
export function findRedisCli(): string {
  const fromEnv = process.env.REDIS_CLI_BINARY;
  if (fromEnv) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-cli');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error('redis-cli was not found on PATH: install it (Debian: apt-get install -y redis-tools)');
}

/** Resolve once `port` can be bound on 127.0.0.1 (false when something holds it). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * `count` distinct free ports on 127.0.0.1. With `busOffset` (a cluster's bus port is the port + 10000),
 * each port's `port + busOffset` is free too.
 */
export async function freePorts(count: number, busOffset?: number): Promise<number[]> {
  const ports: number[] = [];
  const low = 20_000;
  const high = 65_535 - (busOffset ?? 0);
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 2_000) throw new Error(`freePorts: found ${ports.length} of ${count} free ports`);
    const port = low + Math.floor(Math.random() * (high - low));
    if (ports.includes(port) || (busOffset !== undefined && ports.some((p) => p + busOffset === port || port + busOffset === p))) continue;
    if (!(await portIsFree(port))) continue;
    if (busOffset !== undefined && !(await portIsFree(port + busOffset))) continue;
    ports.push(port);
  }
  return ports;
}

/** Poll `check` every `everyMs` until it returns true; fails, naming `what`, once `limitMs` has passed. */
export async function waitFor(what: string, check: () => Promise<boolean>, limitMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out after ${limitMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function inspector(port: number) {
  // No offline queue: a command to a dead node fails at once instead of waiting for it to return.
  // RESP2: SENTINEL and CLUSTER replies come back as plain arrays and strings.
  const client = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: 50 },
    disableOfflineQueue: true,
    RESP: 2,
  });
  client.on('error', () => {
    // nodes are killed on purpose; the client reconnects by itself
  });
  return client;
}
/** A plain client of one node, without offline queue, for the helpers and the tests to inspect it. */
export type Inspector = ReturnType<typeof inspector>;

/** Every child process still running, so the exit hook can kill it. */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Started per topology: polls the test process, and once it is gone SIGKILLs every pid written in the
 * `<root>/<node>/redis.pid` files and removes `root`. Detached and unreferenced: it never keeps jest alive.
 */
const WATCHDOG = `
const fs = require('node:fs'); const path = require('node:path');
const [parent, root] = [Number(process.argv[1]), process.argv[2]];
setInterval(() => {
  try { process.kill(parent, 0); return; } catch {}
  let dirs = []; try { dirs = fs.readdirSync(root); } catch {}
  for (const d of dirs) { try { process.kill(Number(fs.readFileSync(path.join(root, d, 'redis.pid'), 'utf8')), 'SIGKILL'); } catch {} }
  fs.rmSync(root, { recursive: true, force: true });
  process.exit(0);
}, 500);
`;

/** A temp dir holding one sub-dir per node, watched by a watchdog process. */
export class TopologyDir {
  readonly root: string;
  private readonly watchdog: ChildProcess;

  constructor(label: string) {
    hookExit();
    this.root = mkdtempSync(join(tmpdir(), `cachette-${label}-`));
    tempDirs.add(this.root);
    this.watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), this.root], { detached: true, stdio: 'ignore' });
    this.watchdog.unref();
  }

  /** The dir of one node (created). */
  nodeDir(name: string): string {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Remove the dir and stop the watchdog (the processes must be stopped first). */
  remove(): void {
    this.watchdog.kill('SIGKILL');
    rmSync(this.root, { recursive: true, force: true });
    tempDirs.delete(this.root);
  }
}

/** One redis-server process on a fixed port and dir; it can be killed and started again there. */
export class RedisProcess {
  readonly host = '127.0.0.1';
  /** A client of this node, without offline queue (commands fail at once while the node is down). */
  readonly inspect: Inspector;
  private child: ChildProcess | undefined;

  /** `args` come after the binary (a conf file first, for a sentinel); port, dir, log and pid file are added. */
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
  ) {
    this.inspect = inspector(port);
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get alive(): boolean {
    return this.child !== undefined;
  }

  /** Start the process and wait (bounded) until it answers PING. */
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      findRedisServer(),
      [
        ...this.args,
        '--port', String(this.port),
        '--bind', '127.0.0.1',
        '--dir', this.dir,
        '--logfile', join(this.dir, 'redis.log'),
        '--pidfile', join(this.dir, 'redis.pid'),
        '--daemonize', 'no',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    running.add(child);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });
    // connect() retries until the node listens; the poll below waits for it (bounded).
    if (!this.inspect.isOpen) void this.inspect.connect().catch(() => {});
    await waitFor(
      `redis-server on port ${this.port} to answer PING`,
      async () => {
        if (exited) throw new Error(`redis-server on port ${this.port} exited at start: ${this.logTail()}`);
        return (await this.inspect.ping()) === 'PONG';
      },
      10_000,
      20,
    );
  }

  /** Kill the process with SIGKILL (no shutdown) and wait until it has exited. */
  async sigkill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    // SIGKILL leaves the pid file behind: drop it so the watchdog never kills a reused pid.
    try {
      unlinkSync(join(this.dir, 'redis.pid'));
    } catch {
      // already gone
    }
  }

  /** Close the inspection client and kill the process. */
  async stop(): Promise<void> {
    this.inspect.destroy();
    await this.sigkill();
  }

  private logTail(): string {
    try {
      return readFileSync(join(this.dir, 'redis.log'), 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      return '(no log)';
    }
  }
}
