/**
 * The node-redis client as the Redis store sees it: the methods it calls, the refusal of clients that
 * do not speak the v5/v6 command API, and the client the store creates for itself (settings, connect
 * timeout, bounded close).
 * @module
 */
import { createClient, createSentinel, RESP_TYPES } from 'redis';

/** A node-redis client (v5/v6), connected or not: the methods the Redis store calls on it. */
export interface RedisClientLike {
  /** True once `connect()` was called and until the client is closed. */
  readonly isOpen: boolean;
  /** True while connected and able to run commands. */
  readonly isReady: boolean;
  /** node-redis `connect()`. */
  connect(): Promise<unknown>;
  /** node-redis `GET`. */
  get(key: string): Promise<unknown>;
  /** node-redis `MGET` (batch reads: `f.many()`); without it the store reads key by key. */
  mGet?(keys: string[]): Promise<unknown[]>;
  /** node-redis `GETEX`. */
  getEx(key: string, options: { type: 'PX'; value: number } | { type: 'PERSIST' }): Promise<unknown>;
  /** node-redis `SET` (`condition: 'NX'` for the miss lock). */
  set(key: string, value: string | Buffer, options?: { condition?: 'NX'; expiration?: { type: 'PX'; value: number } }): Promise<unknown>;
  /** node-redis `DEL`. */
  del(key: string): Promise<number>;
  /** node-redis `EVALSHA` (the lock's compare-and-delete script, once Redis has it cached). */
  evalSha(sha1: string, options: { keys: string[]; arguments: Array<string | Buffer> }): Promise<unknown>;
  /** node-redis `EVAL` (the same script, sent whole when Redis answers `NOSCRIPT`). */
  eval(script: string, options: { keys: string[]; arguments: Array<string | Buffer> }): Promise<unknown>;
  /** node-redis event subscription (`error`, `ready`). */
  on(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
  /** Removes a listener added with `on` (`close()` takes back what the store added). */
  removeListener?(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
}

/**
 * Why `client` cannot be used, or `undefined` when it can (or is not client-shaped at all).
 *
 * node-redis 4 takes `set(key, value, { PX, NX })` and silently ignores the v5/v6 options cachette
 * passes (`{ expiration, condition }`): every entry would be stored without expiry, a per-call ttl
 * would `PERSIST` it and the miss lock would not be exclusive. v5 introduced `withCommandOptions`
 * (v4 had a `commandOptions` function instead), so its absence tells a v4 client (or a v5 legacy
 * proxy) from one that speaks the v5/v6 command API.
 * @internal
 */
export function unsupportedClient(client: unknown): string | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const candidate = client as { get?: unknown; set?: unknown; withCommandOptions?: unknown; commandOptions?: unknown };
  if (typeof candidate.get !== 'function' || typeof candidate.set !== 'function') return undefined;
  if (typeof candidate.withCommandOptions === 'function') return undefined;
  const which = typeof candidate.commandOptions === 'function' ? 'a node-redis 4 client' : 'a client without the node-redis 5/6 command API (withCommandOptions)';
  return `${which} is not supported: it would ignore the SET options cachette sends (entries would never expire, the lock would not be exclusive); pass a client from redis 5 or later (createClient() from the redis package)`;
}

/**
 * A node-redis `RedisSentinel` (`createSentinel()`), told from a plain client by the methods only it
 * has. Its `sendCommand` takes `(isReadonly, args)`, not `(args)`: the store uses its typed commands.
 * @internal
 */
export function isSentinelClient(client: unknown): boolean {
  const candidate = client as { getMasterNode?: unknown; getSentinelNode?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.getMasterNode === 'function' && typeof candidate.getSentinelNode === 'function';
}

/** A Sentinel-managed primary, reached through node-redis' `createSentinel` (same option names). */
export interface RedisSentinelOptions {
  /** The monitored master's name (`sentinel monitor <name> …`). */
  name: string;
  /** Some of the sentinels (`{ host, port }`); the others and the data nodes are discovered from them. */
  sentinelRootNodes: Array<{
    /** A sentinel's host name or IP address. */
    host: string;
    /** The sentinel's TCP port (26379 by convention). */
    port: number;
  }>;
  /**
   * node-redis client options for every data node (primary and replicas): `username`, `password`,
   * `database`, `socket` (TLS: `socket: { tls: true, … }`). Given once, they reach every node.
   */
  nodeClientOptions?: Record<string, unknown>;
  /** node-redis client options for the sentinels themselves (`username`, `password`, `socket`). */
  sentinelClientOptions?: Record<string, unknown>;
}

/** How the Redis store reaches Redis: a URL, socket settings, Sentinel, or a client you own. */
export type RedisConnection =
  | {
      /** `redis[s]://[[user]:password@]host[:port][/db]`. */
      url: string;
    }
  | RedisSocketOptions
  | {
      /** A Sentinel-managed primary (node-redis `createSentinel`). */
      sentinel: RedisSentinelOptions;
    }
  | {
      /** Your node-redis client or sentinel (`createSentinel()`); connected on first use if needed, never closed. */
      client: RedisClientLike;
    };

/** Redis reached by host and port. */
export interface RedisSocketOptions {
  /** Host name or IP address. @defaultValue 'localhost' */
  host?: string;
  /** TCP port. @defaultValue 6379 */
  port?: number;
  /** ACL user name. */
  username?: string;
  /** Password (never logged, never in error messages). */
  password?: string;
  /** Database number. @defaultValue 0 */
  db?: number;
  /** `true` for TLS with Node's defaults, or Node `tls.connect` options. @defaultValue false */
  tls?: boolean | Record<string, unknown>;
}

export function createOwnClient(connection: RedisConnection, timeoutMs: number): unknown {
  const socket: Record<string, unknown> = {
    connectTimeout: connectTimeoutFor(timeoutMs),
    // Back off up to 2 s between attempts; calls meanwhile go straight to the origin.
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000) + Math.floor(Math.random() * 50),
  };
  const base = {
    // RESP2: the handshake authenticates with AUTH, not HELLO, so servers without HELLO (Redis < 6, or
    // HELLO renamed away) work, and none can echo the password back from a refused HELLO. GET, SET,
    // GETEX, DEL and EVAL reply the same in both protocols.
    RESP: 2 as const,
    disableOfflineQueue: true,
    commandOptions: { timeout: 0 },
  };
  if ('url' in connection) return createClient({ ...base, url: connection.url, socket });
  if ('sentinel' in connection) return createOwnSentinel(connection.sentinel, base, socket);
  const c = connection as RedisSocketOptions;
  if (c.host !== undefined) socket.host = c.host;
  if (c.port !== undefined) socket.port = c.port;
  if (c.tls) Object.assign(socket, { tls: true }, typeof c.tls === 'object' ? c.tls : {});
  return createClient({
    ...base,
    socket,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.db !== undefined ? { database: c.db } : {}),
  });
}

/**
 * `createSentinel` with the store's settings: RESP2 everywhere, node-redis' command timeout off
 * (top-level `commandOptions` in v6), and on every data node no offline queue, the connect timeout
 * and the backoff (a command on a node that is not ready fails, and node-redis rediscovers the
 * primary and retries it). Your `nodeClientOptions` (credentials, TLS, database) go on top, so they
 * reach every node; node clients' errors are passed through to the store's `error` listener.
 */
function createOwnSentinel(options: RedisSentinelOptions, base: { RESP: 2; disableOfflineQueue: boolean }, socket: Record<string, unknown>): unknown {
  const node = options.nodeClientOptions ?? {};
  const sentinelNode = options.sentinelClientOptions ?? {};
  const { connectTimeout } = socket;
  return createSentinel({
    name: options.name,
    sentinelRootNodes: options.sentinelRootNodes.map(({ host, port }) => ({ host, port })),
    RESP: base.RESP,
    commandOptions: { timeout: 0 },
    passthroughClientErrorEvents: true,
    nodeClientOptions: {
      ...node,
      RESP: base.RESP,
      disableOfflineQueue: base.disableOfflineQueue,
      socket: { ...socket, ...(node.socket as Record<string, unknown> | undefined) },
    },
    sentinelClientOptions: {
      ...sentinelNode,
      RESP: base.RESP,
      socket: { connectTimeout, ...(sentinelNode.socket as Record<string, unknown> | undefined) },
    },
  } as Parameters<typeof createSentinel>[0]);
}

/** The client with node-redis' per-command `AbortSignal` timeout off (Deadlines bound operations instead). */
export function withoutCommandTimeout(client: RedisClientLike, binary: boolean): RedisClientLike {
  const proxy = client as unknown as { withCommandOptions?: (options: Record<string, unknown>) => RedisClientLike };
  if (typeof proxy.withCommandOptions !== 'function') return client;
  return proxy.withCommandOptions({
    timeout: 0,
    ...(binary ? { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } : {}),
  });
}

/** The socket's connect timeout: 4 × the operation timeout, at least 1 s, at most what a Node timer holds. */
export function connectTimeoutFor(timeoutMs: number): number {
  // A longer timer would fire at once (and warn).
  return Math.min(Math.max(1_000, timeoutMs * 4), 2 ** 31 - 1);
}

/** The password of a `redis://` URL, decoded (`undefined` when it has none or does not parse). */
export function urlPassword(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/**
 * Close gracefully (replies to commands in flight are awaited), but for at most `ms`: a frozen or
 * silent server would otherwise hold `close()` forever. Then the connection is cut.
 */
export async function closeWithin(client: { close(): Promise<void>; destroy(): void }, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const closed = await Promise.race([
    client.close().then(
      () => true,
      () => false,
    ),
    expired,
  ]);
  clearTimeout(timer);
  if (!closed) client.destroy();
}
