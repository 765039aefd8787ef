/**
 * No password in anything cachette hands out, on real servers that echo it: a server without
 * `HELLO` answers `ERR unknown command 'HELLO', with args beginning with: '3' 'AUTH' 'default'
 * '<password>'` to node-redis' default (RESP3) handshake, and one without `AUTH` does the same to a
 * RESP2 handshake. Every logged field, every `console.warn` line and every error thrown to a caller
 * (message, stack, own properties, the cause chain) is searched for the password.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createClient } from 'redis';
import { cached, createCache, type Cache, type Logger } from '../../lib/index.js';
import { findSecret } from '../helpers/secrets.js';
import { startRedisWith } from '../helpers/redis-server.js';

const PASSWORD = 'Pw-s3cret-7f3a#9c/2e?x';
const USER_PASSWORD = 'user-Pw-41c9e0b8d2';
/** Longer than Redis echoes (128 characters of arguments): only a prefix would appear. */
const LONG_PASSWORD = `long-${'k9'.repeat(80)}`;

type Server = Awaited<ReturnType<typeof startRedisWith>>;
let noHello: Server;
let noHelloNoAuth: Server;

beforeAll(async () => {
  const users = ['--user', 'app', 'on', `>${USER_PASSWORD}`, `>${LONG_PASSWORD}`, '~*', '&*', '+@all'];
  noHello = await startRedisWith(['--rename-command', 'HELLO', '', '--requirepass', PASSWORD, ...users]);
  noHelloNoAuth = await startRedisWith(['--rename-command', 'HELLO', '', '--rename-command', 'AUTH', '', '--requirepass', PASSWORD, ...users]);
});
afterAll(async () => {
  await noHello.stop();
  await noHelloNoAuth.stop();
});

function recordingLogger(): Logger & { lines: Array<{ fields: Record<string, unknown>; message: string }> } {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const record = (fields: Record<string, unknown>, message: string): void => {
    lines.push({ fields, message });
  };
  return { lines, warn: record, error: record };
}

const url = (server: Server, password: string, user = ''): string =>
  `redis://${user}:${encodeURIComponent(password)}@${server.host}:${server.port}`;

/** Calls, then an invalidate(), on `cache`; returns what the caller was given. */
async function exercise(cache: Cache): Promise<unknown[]> {
  let runs = 0;
  const load = cached(async (id: number) => ({ id, n: ++runs }), { cache, name: 'load', ttl: '1m' });
  const answers: unknown[] = [];
  for (let i = 0; i < 8; i++) answers.push(await load(i % 2));
  expect(answers).toHaveLength(8);
  const invalidated = await load.invalidate(1).then(
    () => undefined,
    (error: unknown) => error,
  );
  return [answers, invalidated];
}

/** Asserts that neither the whole password nor its first 16 characters appear anywhere in `value`. */
function expectNoSecret(value: unknown, password: string): void {
  expect(findSecret(value, password)).toEqual([]);
  expect(findSecret(value, password.slice(0, 16))).toEqual([]);
  expect(findSecret(value, encodeURIComponent(password).slice(0, 16))).toEqual([]);
}

describe('a server without HELLO', () => {
  it('serves hits to a url with a password: cachette authenticates with AUTH (RESP2)', async () => {
    const cache = createCache({ store: { type: 'redis', url: url(noHello, PASSWORD) }, logger: recordingLogger() });
    const [answers] = await exercise(cache);
    expect(answers).toEqual([{ id: 0, n: 1 }, { id: 1, n: 2 }, { id: 0, n: 1 }, { id: 1, n: 2 }, { id: 0, n: 1 }, { id: 1, n: 2 }, { id: 0, n: 1 }, { id: 1, n: 2 }]);
    await cache.close();
  });

  it('serves hits to an ACL user given by host, username and password', async () => {
    const logger = recordingLogger();
    const cache = createCache({
      store: { type: 'redis', host: noHello.host, port: noHello.port, username: 'app', password: USER_PASSWORD },
      logger,
    });
    let runs = 0;
    const load = cached(async (id: number) => ({ id, n: ++runs }), { cache, name: 'load', ttl: '1m' });
    await load(1);
    await load(1);
    expect(load.stats).toMatchObject({ hits: 1, misses: 1, errors: 0 });
    expect(await load.invalidate(1)).toBe(true);
    expect(logger.lines).toEqual([]);
    await cache.close();
  });

  it('keeps the password of a client you own, refused in its HELLO, out of logs and errors', async () => {
    const client = createClient({ url: url(noHello, PASSWORD, 'default') });
    client.on('error', () => {}); // the application's own listener
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', client }, logger });
    const given = await exercise(cache);
    // The refusal did reach cachette, redacted: the test exercised the leaking path.
    expect(JSON.stringify(logger.lines.map((line) => String((line.fields.err as Error | undefined)?.cause ?? line.fields.err)))).toContain(
      'with args beginning with: [redacted]',
    );
    expect((given[1] as Error).name).toMatch(/^Cache(Store|Unavailable)Error$/);
    expectNoSecret(logger.lines, PASSWORD);
    expectNoSecret(given, PASSWORD);
    await cache.close();
    await client.destroy();
  });

  it('keeps a long password out even though Redis echoes only its first characters', async () => {
    const client = createClient({ url: url(noHello, LONG_PASSWORD, 'app') });
    client.on('error', () => {});
    const logger = recordingLogger();
    const cache = createCache({ store: { type: 'redis', client }, logger });
    const given = await exercise(cache);
    expect(logger.lines.length).toBeGreaterThan(0);
    expectNoSecret(logger.lines, LONG_PASSWORD);
    expectNoSecret(given, LONG_PASSWORD);
    await cache.close();
    await client.destroy();
  });
});

describe('a server that echoes the AUTH arguments too', () => {
  const forms = {
    url: () => ({ type: 'redis' as const, url: url(noHelloNoAuth, PASSWORD) }),
    'host and password': () => ({ type: 'redis' as const, host: noHelloNoAuth.host, port: noHelloNoAuth.port, password: PASSWORD }),
    'host, username and password': () => ({
      type: 'redis' as const,
      host: noHelloNoAuth.host,
      port: noHelloNoAuth.port,
      username: 'app',
      password: USER_PASSWORD,
    }),
  };

  for (const [form, store] of Object.entries(forms)) {
    it(`keeps the password of the ${form} form out of logs, errors and causes`, async () => {
      const password = form.includes('username') ? USER_PASSWORD : PASSWORD;
      const logger = recordingLogger();
      const cache = createCache({ store: store(), logger, breaker: { threshold: 2 } });
      const given = await exercise(cache);
      const kinds = new Set(logger.lines.map((line) => line.fields.kind));
      expect(kinds).toContain('connection');
      expect(kinds).toContain('breaker');
      expect(JSON.stringify(logger.lines.map((line) => String((line.fields.err as Error).cause ?? line.fields.err)))).toContain('[redacted]');
      expect((given[1] as Error).name).toMatch(/^Cache(Store|Unavailable)Error$/);
      expectNoSecret(logger.lines, password);
      expectNoSecret(given, password);
      await cache.close();
    });
  }

  it('keeps it out of the default logger’s console.warn lines', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const cache = createCache({ store: { type: 'redis', url: url(noHelloNoAuth, PASSWORD) } });
      await exercise(cache);
      await cache.close();
      expect(warn.mock.calls.length).toBeGreaterThan(0);
      expectNoSecret(warn.mock.calls, PASSWORD);
    } finally {
      warn.mockRestore();
    }
  });
});
