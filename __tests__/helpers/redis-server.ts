/**
 * Real redis-server processes for tests, through redis-memory-server pointed at the system binary.
 * The binary is looked up on PATH when the test starts (REDISMS_SYSTEM_BINARY wins when set), so
 * nothing is downloaded or compiled.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createClient } from 'redis';
import { RedisMemoryServer } from 'redis-memory-server';

/** The redis-server binary: REDISMS_SYSTEM_BINARY, else the first `redis-server` on PATH. */
export function findRedisServer(): string {
  const fromEnv = process.env.REDISMS_SYSTEM_BINARY;
  if (fromEnv) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error('redis-server was not found on PATH: install it (Debian: apt-get install -y redis-server)');
}

function adminClient(host: string, port: number) {
  const admin = createClient({ socket: { host, port, reconnectStrategy: 50 } });
  admin.on('error', () => {
    // fault tests stop the server on purpose; the admin client reconnects by itself
  });
  return admin;
}
type AdminClient = ReturnType<typeof adminClient>;

/** A running redis-server and a plain client to inspect it. */
export interface TestRedis {
  readonly server: RedisMemoryServer;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** A client of the test's own, to inspect what cachette wrote. */
  readonly admin: AdminClient;
  /** Stop and start the same server on the same port (data is lost: no persistence). */
  restart(): Promise<void>;
  /** Stop the server process (SIGTERM) without starting it again; `start()` brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /**
   * Kill the server process with SIGKILL (no shutdown: the kernel resets its connections) and wait
   * until it has exited; `start()` brings it back on the same port, empty.
   */
  sigkill(): Promise<void>;
  /** Freeze (SIGSTOP) or thaw (SIGCONT) the server process: it keeps its sockets but answers nothing. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

/** Start a server (one per test file) and connect an inspection client. */
export async function startRedis(): Promise<TestRedis> {
  process.env.REDISMS_SYSTEM_BINARY = findRedisServer();
  const server = await RedisMemoryServer.create();
  const host = await server.getHost();
  const port = await server.getPort();
  const admin = adminClient(host, port);
  await admin.connect();
  const kill = async (): Promise<void> => {
    await server.stop();
  };
  const start = async (): Promise<void> => {
    await server.start();
    if ((await server.getPort()) !== port) throw new Error('redis-server came back on another port');
    await waitUntil(async () => (await admin.ping().catch(() => '')) === 'PONG');
  };
  return {
    server,
    host,
    port,
    url: `redis://${host}:${port}`,
    admin,
    async restart() {
      await kill();
      await start();
    },
    kill,
    start,
    async sigkill() {
      const child = childOf(server);
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      process.kill(child.pid!, 'SIGKILL');
      await exited;
      // The process is gone already: this only clears redis-memory-server's record of it (and its
      // watchdog process), so that start() can launch a new one on the same port.
      await server.stop();
    },
    freeze() {
      process.kill(pidOf(server), 'SIGSTOP');
    },
    thaw() {
      process.kill(pidOf(server), 'SIGCONT');
    },
    async stop() {
      await admin.close().catch(() => admin.destroy());
      await server.stop();
    },
  };
}

function childOf(server: RedisMemoryServer): ChildProcess {
  const info = server.getInstanceInfo();
  const child = info ? info.instance.childProcess : null;
  if (!child || child.pid === undefined) throw new Error('redis-server is not running');
  return child;
}

function pidOf(server: RedisMemoryServer): number {
  return childOf(server).pid!;
}

/** Poll `check` until it is true (bounded: fails after `attempts` tries). */
export async function waitUntil(check: () => boolean | Promise<boolean>, attempts = 200, everyMs = 25): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error('waitUntil: condition never became true');
}

/**
 * A redis-server started with extra arguments (`--requirepass`, `--rename-command HELLO ""` …) and
 * no inspection client: such servers may refuse the handshake a default client makes.
 */
export async function startRedisWith(args: string[]): Promise<{ host: string; port: number; stop(): Promise<void> }> {
  process.env.REDISMS_SYSTEM_BINARY = findRedisServer();
  const server = await RedisMemoryServer.create({ instance: { args } });
  return { host: await server.getHost(), port: await server.getPort(), stop: async () => void (await server.stop()) };
}
