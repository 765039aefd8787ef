/**
 * The socket form of the Redis store reaches Redis the way it says: as the ACL user given, with its
 * password, on the database index given, and over TLS when asked. Each field is checked on a real
 * redis-server that would answer differently without it (the default user has a password of its
 * own; the TLS server has no plain-text port).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { cached, createCache, type Logger } from '../../lib/index.js';
import { findRedisServer, startRedis, waitUntil, type TestRedis } from '../helpers/redis-server.js';

const APP_PASSWORD = 'app-Pa55';
const DEFAULT_PASSWORD = 'default-Pa55';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (_fields: Record<string, unknown>, message: string): void => void lines.push(message);
  return { lines, warn: record, error: record };
}

describe('the socket form on a server with ACL users', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
    await redis.admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', `>${APP_PASSWORD}`, '~*', '&*', '+@all']);
    // Connections that do not authenticate as `app` land on the default user, which now needs its own password.
    await redis.admin.sendCommand(['ACL', 'SETUSER', 'default', 'on', `>${DEFAULT_PASSWORD}`]);
  });
  afterAll(async () => {
    await redis.admin.sendCommand(['ACL', 'SETUSER', 'default', 'on', 'nopass']);
    await redis.stop();
  });

  it('connects as the given user with its password, to the given database', async () => {
    const logger = recordingLogger();
    const cache = createCache({
      store: { type: 'redis', host: redis.host, port: redis.port, username: 'app', password: APP_PASSWORD, db: 3 },
      logger,
    });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    try {
      expect(await f(1)).toEqual({ id: 1 });
      expect(await f(1)).toEqual({ id: 1 });
      expect(f.stats).toMatchObject({ misses: 1, hits: 1, errors: 0 });
      expect(logger.lines).toEqual([]);

      const clients = String(await redis.admin.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => / user=app /.test(line));
      expect(clients).toHaveLength(1);
      expect(clients[0]).toMatch(/ db=3 /);

      const inspect = createClient({ socket: { host: redis.host, port: redis.port }, password: DEFAULT_PASSWORD, database: 3 });
      await inspect.connect();
      const inDb3 = await inspect.exists(f.keyFor(1));
      await inspect.select(0);
      const inDb0 = await inspect.exists(f.keyFor(1));
      await inspect.close();
      expect({ inDb3, inDb0 }).toEqual({ inDb3: 1, inDb0: 0 });
    } finally {
      await cache.close();
    }
  });
});

/** A self-signed certificate for `localhost`, made with the openssl command line. */
function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the socket form on a TLS-only server', () => {
  let dir: string;
  let server: ChildProcess;
  let port: number;
  let ca: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cachette-tls-'));
    const { cert, key } = makeCertificate(dir);
    ca = readFileSync(cert, 'utf8');
    port = await freePort();
    server = spawn(
      findRedisServer(),
      ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    const probe = createClient({ socket: { host: 'localhost', port, tls: true, ca, reconnectStrategy: false } });
    probe.on('error', () => {});
    await waitUntil(async () => {
      try {
        await probe.connect();
        return true;
      } catch {
        return false;
      }
    });
    await probe.close();
  });
  afterAll(async () => {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks TLS with the tls.connect options given', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', host: 'localhost', port, tls: { ca } }, logger });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    try {
      expect(await f(1)).toEqual({ id: 1 });
      expect(await f(1)).toEqual({ id: 1 });
      expect(f.stats).toMatchObject({ misses: 1, hits: 1, errors: 0 });
      expect(logger.lines).toEqual([]);
    } finally {
      await cache.close();
    }
  });

  it('fails open, reported, when tls is not asked for', async () => {
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', host: 'localhost', port, opTimeout: 200 }, logger });
    const f = cached(async (id: number) => ({ id }), { cache, name: 'f', ttl: '1m' });
    try {
      expect(await f(1)).toEqual({ id: 1 });
      expect(f.stats.hits).toBe(0);
      expect(f.stats.errors).toBeGreaterThan(0);
      expect(logger.lines.length).toBeGreaterThan(0);
    } finally {
      await cache.close();
    }
  });
});
