import { createHash } from 'node:crypto';
import { createClient, ErrorReply, RESP_TYPES } from 'redis';
import { DEFAULT_OP_TIMEOUT_MS } from '../defaults.js';
import { CacheConfigError, CacheStoreError, CacheTimeoutError, CacheUnavailableError } from '../errors.js';
import { callQuietly, CircuitBreaker, type BreakerOptions, type ConnectionState, type StoreHealth } from './breaker.js';
import { Deadlines } from './deadlines.js';
import { redactor } from './redact.js';
import type { Store } from './store.js';

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

/** What the store knows about an outage that just ended (see the `onRecovery` option of {@link RedisStoreOptions}). */
export interface RedisRecovery {
  /** How long Redis was unusable, in ms of the breaker's clock: from the first failure to the first success. */
  readonly downMs: number;
  /** Operations not attempted meanwhile because the circuit breaker was open (what `stats.skipped` counts). */
  readonly skipped: number;
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

/** How the Redis store reaches Redis: a URL, socket settings, or a client you own. */
export type RedisConnection =
  | {
      /** `redis[s]://[[user]:password@]host[:port][/db]`. */
      url: string;
    }
  | RedisSocketOptions
  | {
      /** Your node-redis client; connected on first use if needed, never closed. */
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

/** Options of {@link RedisStore}. */
export type RedisStoreOptions = RedisConnection & {
  /** Longest time one operation may take before it fails with {@link CacheTimeoutError}. @defaultValue 500 */
  opTimeoutMs?: number;
  /** Read values as `Buffer`s (for binary serializers). @defaultValue false */
  binary?: boolean;
  /** Called with connection-level errors (the client's `error` events), without the password. */
  onConnectionError?: (error: Error) => void;
  /**
   * Called once when Redis is usable again after an outage (connection errors, or an open breaker):
   * when the client is ready again with the breaker closed, or when the breaker's probe succeeds.
   */
  onRecovery?: (recovery: RedisRecovery) => void;
  /** Called the first time an operation is asked of the store after {@link RedisStore.close}. */
  onUseAfterClose?: () => void;
  /**
   * The circuit breaker: after `threshold` consecutive outages (lost connection, timeout) operations
   * fail at once with {@link CacheUnavailableError} for `cooldownMs`, then one probe decides. Replies
   * refusing a command (`OOM`, `READONLY`, `WRONGTYPE` …) show Redis is up and never open it; `LOADING`,
   * `BUSY` and `MASTERDOWN` count as outages. `false` never opens it (failures are still counted).
   * @defaultValue `{ threshold: 5, cooldownMs: 2000 }`
   */
  breaker?: Omit<BreakerOptions, 'isOutage'> | false;
};


/**
 * The Redis store, on the official `redis` client (node-redis).
 *
 * - Opens its connection lazily (on first use) and reconnects in the background.
 * - Fails fast while disconnected (no offline queue): a call goes to the origin at once instead of
 *   waiting for Redis. The very first operation waits for the first connection, bounded by the
 *   operation timeout.
 * - Bounds every operation by `opTimeoutMs` with one shared coarse timer, not a timer per operation.
 * - Skips Redis while its circuit breaker is open (the `breaker` option); {@link RedisStore.health}
 *   reports the breaker's state. Each time the breaker opens, a connection the store opened is
 *   dropped and opened again, so a peer that accepted it and went silent cannot hold it for good.
 * - On a read-only replica, a `GETEX` refused with `READONLY` makes later `getAndExpire` calls plain
 *   `GET`s (hits are served, the TTL is not extended) until a write succeeds again.
 * - Never closes a client it was given.
 */
export class RedisStore implements Store<string | Buffer> {
  readonly name = 'redis';

  /** `false` while the circuit breaker skips Redis, and after {@link RedisStore.close} (see {@link Store.isAvailable}). */
  isAvailable(): boolean {
    if (this.#closed) return this.#usedAfterClose();
    if (!this.#breaker.skipping) return true;
    this.#skipped++; // the engine skips the operation: counted for the recovery report
    return false;
  }
  readonly #client: RedisClientLike;
  /** The client commands go through: `#client` with node-redis' per-command timeout switched off. */
  readonly #commands: RedisClientLike;
  readonly #owned: boolean;
  /**
   * `sendCommand` of a text client the store created, or `undefined`. GET, GETEX and SET go through it
   * as raw argument lists: node-redis' typed command layer (argument parser, an async frame, a
   * tracing closure) is about 0.24 µs of CPU per hit at 64 in flight, and these replies need no
   * transformation. A client you pass in keeps its typed commands (its options may map types).
   */
  readonly #send: ((args: string[]) => Promise<unknown>) | undefined;
  readonly #deadlines: Deadlines;
  readonly #breaker: CircuitBreaker;
  #firstConnection: Promise<void> | undefined;
  /** Settles the first connection wait: the client's first `ready` or `error`, or `close()`. */
  #settleFirstWait: ((error?: Error) => void) | undefined;
  /** The first connection attempt is over: from now on, operations never wait for a connection. */
  #firstWaitOver = false;
  #everReady = false;
  #closed = false;
  /** Given to every operation asked of the store after `close()`; made once, by `close()`. */
  #closedError: CacheUnavailableError | undefined;
  #closedUseReported = false;
  readonly #onUseAfterClose: (() => void) | undefined;
  /** Waiting `connect()` calls: told of the next `ready` (no argument) or connection `error`. */
  readonly #connectWaiters = new Set<(error?: Error) => void>();
  /** When the current outage began (breaker clock), or `undefined` while none is known. */
  #downSince: number | undefined;
  /** Operations the breaker skipped since the last recovery report. */
  #skipped = 0;
  readonly #onRecovery: ((recovery: RedisRecovery) => void) | undefined;
  readonly #clock: () => number;
  readonly #connectTimeoutMs: number;
  /** The listeners the store added to the client, taken off again by `close()`. */
  readonly #onClientError: (error: Error) => void;
  readonly #onClientReady: () => void;
  /** The server refused `GETEX` with `READONLY` (a replica): read with `GET` until a write succeeds. */
  #extendRefused = false;
  /** Foreign errors without the password (see `redact.ts`): applied where node-redis errors enter. */
  readonly #redact: (error: unknown) => unknown;
  readonly #failedRead: (error: unknown) => CacheStoreError;
  readonly #failedWrite: (error: unknown) => CacheStoreError;
  readonly #failedDelete: (error: unknown) => CacheStoreError;
  readonly #failedExtend = (error: unknown): CacheStoreError => {
    const failure = this.#failedRead(error);
    if (isReadOnlyReply(failure.cause)) this.#extendRefused = true;
    return failure;
  };
  readonly #written = (): void => {
    if (this.#extendRefused) this.#extendRefused = false;
  };

  constructor(options: RedisStoreOptions) {
    const timeoutMs = options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
    const breaker = options.breaker === false ? { threshold: Infinity } : options.breaker;
    const onOpen = breaker?.onOpen;
    const clock = breaker?.clock;
    this.#clock = clock === undefined ? Date.now : () => clock.now();
    this.#breaker = new CircuitBreaker('redis', {
      ...breaker,
      isOutage: (error) => !isRefusal(error),
      onOpen: (health, error) => {
        this.#downSince ??= this.#clock();
        callQuietly(onOpen, health, error);
        this.#reconnect();
      },
      onClose: () => this.#recovered(),
    });
    this.#onRecovery = options.onRecovery;
    this.#onUseAfterClose = options.onUseAfterClose;
    this.#connectTimeoutMs = connectTimeoutFor(timeoutMs);
    // Every watched operation reports its outcome to the breaker, from handlers Deadlines has anyway.
    this.#deadlines = new Deadlines(
      timeoutMs,
      () => new CacheTimeoutError(`cachette: redis operation timed out after ${timeoutMs} ms`, 'redis'),
      this.#breaker,
    );
    if ('client' in options) {
      const refused = unsupportedClient(options.client);
      if (refused !== undefined) throw new CacheConfigError(`cachette: store.client: ${refused}`, 'store.client');
      this.#client = options.client;
      this.#owned = false;
    } else {
      this.#client = createOwnClient(options, timeoutMs) as unknown as RedisClientLike;
      this.#owned = true;
    }
    this.#redact = redactor([
      'password' in options ? options.password : undefined,
      'url' in options ? urlPassword(options.url) : undefined,
      (this.#client as { options?: { password?: unknown } }).options?.password as string | undefined,
    ]);
    this.#failedRead = storeError('read', this.#redact);
    this.#failedWrite = storeError('write', this.#redact);
    this.#failedDelete = storeError('delete', this.#redact);
    // A client the store created already has node-redis' command timeout off; only a client you
    // passed in (or a binary store) needs the per-store command options proxy.
    this.#commands = this.#owned && options.binary !== true ? this.#client : withoutCommandTimeout(this.#client, options.binary === true);
    const raw = this.#client as unknown as { sendCommand?: (args: string[]) => Promise<unknown> };
    this.#send = this.#owned && options.binary !== true && typeof raw.sendCommand === 'function' ? raw.sendCommand.bind(raw) : undefined;
    const onError = options.onConnectionError;
    this.#onClientError = (error: Error) => {
      const safe = this.#redact(error) as Error;
      this.#downSince ??= this.#clock();
      this.#settleFirstWait?.(new CacheStoreError('cachette: could not connect to redis', 'redis', { cause: safe }));
      for (const waiter of this.#connectWaiters) waiter(safe);
      callQuietly(onError, safe);
    };
    this.#onClientReady = () => {
      this.#everReady = true;
      this.#settleFirstWait?.();
      for (const waiter of this.#connectWaiters) waiter();
      // With the breaker open, its probe decides when Redis is back (onClose), not the reconnection.
      if (this.#breaker.closed) this.#recovered();
    };
    // An EventEmitter without an 'error' listener throws: always listen, even on a client we were given.
    this.#client.on('error', this.#onClientError);
    this.#client.on('ready', this.#onClientReady);
    if (this.#client.isReady) this.#everReady = true;
  }

  /**
   * Where the connection stands: `'idle'` (not opened yet: connections open on first use),
   * `'connecting'` (the first connection is being made), `'ready'`, `'reconnecting'` (it was
   * ready once and is being opened again) or `'closed'` (after {@link RedisStore.close}).
   */
  get connection(): ConnectionState {
    if (this.#closed) return 'closed';
    if (this.#client.isReady) return 'ready';
    if (this.#everReady) return 'reconnecting';
    return this.#client.isOpen || this.#firstConnection !== undefined ? 'connecting' : 'idle';
  }

  /**
   * Open the connection now (if it is not open yet) and resolve once Redis answers. Calls do not
   * need it: they connect on first use and fail open either way. Use it to fail fast at start-up.
   *
   * @throws {CacheStoreError} (rejects) when the connection fails: the message says why (wrong
   * password or user, unknown host, connection refused, database index out of range, timed out),
   * never with the password; `cause` holds the client's error, redacted. Bounded by the connect
   * timeout (4 × `opTimeoutMs`, at least 1 s).
   */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new CacheStoreError('cachette: cannot connect: the redis store is closed', 'redis'));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#connectWaiters.delete(connected);
        if (error === undefined) resolve();
        else reject(new CacheStoreError(`cachette: could not connect to redis: ${connectFailure(error)}`, 'redis', { cause: error }));
      };
      // Ready is not enough: without a password, a server that requires one accepts the connection
      // and refuses every command (NOAUTH). One PING says whether commands will run.
      const connected = (error?: Error): void => {
        this.#connectWaiters.delete(connected);
        if (error !== undefined) return finish(error);
        const ping = (this.#commands as { ping?: () => Promise<unknown> }).ping;
        if (typeof ping !== 'function') return finish();
        ping.call(this.#commands).then(
          () => finish(),
          (failure: unknown) => finish(asError(this.#redact(failure))),
        );
      };
      const timer = setTimeout(() => finish(new Error(`no answer within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
      timer.unref?.();
      if (this.#client.isReady) return connected();
      this.#connectWaiters.add(connected);
      if (!this.#client.isOpen) this.#client.connect().catch(noop); // failures arrive as 'error' events
    });
  }

  /** The node-redis client in use (yours, or the one the store created). */
  get client(): RedisClientLike {
    return this.#client;
  }

  /** Operations sent and not yet answered or timed out. */
  get pendingOperations(): number {
    return this.#deadlines.pending;
  }

  /** The circuit breaker's state and the connection's (what `cache.health()` returns). */
  health(): StoreHealth {
    return { ...this.#breaker.health(), connection: this.connection };
  }

  get(key: string): Promise<string | Buffer | undefined> {
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.get(key));
    const send = this.#send;
    return this.#deadlines.watch(send === undefined ? this.#commands.get(key) : send(['GET', key]), toPayload, this.#failedRead);
  }

  getAndExpire(key: string, ttlMs: number): Promise<string | Buffer | undefined> {
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.getAndExpire(key, ttlMs));
    const send = this.#send;
    if (this.#extendRefused) return this.#deadlines.watch(send === undefined ? this.#commands.get(key) : send(['GET', key]), toPayload, this.#failedRead);
    if (send !== undefined) {
      const args = ttlMs === Infinity ? ['GETEX', key, 'PERSIST'] : ['GETEX', key, 'PX', String(wholeMs(ttlMs))];
      return this.#deadlines.watch(send(args), toPayload, this.#failedExtend);
    }
    const expiry = ttlMs === Infinity ? ({ type: 'PERSIST' } as const) : ({ type: 'PX', value: wholeMs(ttlMs) } as const);
    return this.#deadlines.watch(this.#commands.getEx(key, expiry), toPayload, this.#failedExtend);
  }

  set(key: string, value: string | Buffer, ttlMs: number | undefined): Promise<void> {
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.set(key, value, ttlMs));
    const forever = ttlMs === undefined || ttlMs === Infinity;
    const send = this.#send;
    if (send !== undefined && typeof value === 'string') {
      const args = forever ? ['SET', key, value] : ['SET', key, value, 'PX', String(wholeMs(ttlMs))];
      return this.#deadlines.watch(send(args), this.#written, this.#failedWrite);
    }
    const options = forever ? undefined : { expiration: { type: 'PX' as const, value: wholeMs(ttlMs) } };
    return this.#deadlines.watch(this.#commands.set(key, value, options), this.#written, this.#failedWrite);
  }

  delete(key: string): Promise<boolean> {
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.delete(key));
    return this.#deadlines.watch(this.#commands.del(key), isRemoved, this.#failedDelete);
  }

  /** `SET key value NX PX ttlMs`: `true` when this call stored the value. */
  setIfAbsent(key: string, value: string | Buffer, ttlMs: number): Promise<boolean> {
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.setIfAbsent(key, value, ttlMs));
    const options = { condition: 'NX' as const, expiration: { type: 'PX' as const, value: wholeMs(ttlMs) } };
    return this.#deadlines.watch(this.#commands.set(key, value, options), isStored, this.#failedWrite);
  }

  /**
   * Compare-and-delete in one Lua script: `EVALSHA`, and `EVAL` with the whole script when Redis
   * does not have it cached yet (`NOSCRIPT`: first use, or after `SCRIPT FLUSH` or a restart).
   */
  deleteIfEquals(key: string, value: string | Buffer): Promise<boolean> {
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.deleteIfEquals(key, value));
    const options = { keys: [key], arguments: [value] };
    const commands = this.#commands;
    const reply = commands
      .evalSha(COMPARE_AND_DELETE_SHA1, options)
      .catch((error: unknown) => (isNoScript(error) ? commands.eval(COMPARE_AND_DELETE, options) : Promise.reject(error)));
    return this.#deadlines.watch(reply, isScriptRemoved, this.#failedDelete);
  }

  /**
   * Close the connection if this store opened it; a client you passed in stays open, with the
   * listeners the store added to it removed. Bounded: a graceful close waits at most `opTimeoutMs`
   * for replies in flight, then the connection is cut. Every operation still waiting (the first
   * connection included) settles, and operations asked afterwards fail at once with a
   * {@link CacheUnavailableError} (calls go straight to the origin and count them in `stats.skipped`).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedError = new CacheUnavailableError('cachette: redis skipped: the cache was closed (cache.close() was called)', 'redis');
    this.#settleFirstWait?.(this.#closedError);
    for (const waiter of this.#connectWaiters) waiter(new Error('the store was closed'));
    if (this.#owned) {
      const client = this.#client as unknown as { isOpen: boolean; isReady: boolean; close(): Promise<void>; destroy(): void };
      if (client.isOpen) {
        if (client.isReady === false) client.destroy(); // not connected: nothing to flush, stop reconnecting
        else await closeWithin(client, this.#deadlines.timeoutMs);
      }
      // Whatever the client did not settle is over now: its connection is gone.
      this.#deadlines.expireAll(this.#closedError);
    } else {
      // Your client stays open: operations in flight on it still end in time (the deadline timer
      // stops by itself once none is pending). Only the store's listeners are taken off.
      this.#client.removeListener?.('error', this.#onClientError);
      this.#client.removeListener?.('ready', this.#onClientReady);
    }
  }

  /** The first use after `close()` is reported once; the store stays unavailable. */
  #usedAfterClose(): false {
    if (!this.#closedUseReported) {
      this.#closedUseReported = true;
      callQuietly(this.#onUseAfterClose);
    }
    return false;
  }

  /** Redis is usable again: report the outage that ended, if one was known. */
  #recovered(): void {
    const since = this.#downSince;
    if (since === undefined || this.#closed) return;
    this.#downSince = undefined;
    const skipped = this.#skipped;
    this.#skipped = 0;
    callQuietly(this.#onRecovery, { downMs: Math.max(0, this.#clock() - since), skipped });
  }

  /**
   * Drop the connection and open a new one, each time the breaker opens (a client the store created
   * only: yours is never closed). node-redis reconnects only when its socket closes, and with command
   * timeouts off its handshake has no deadline either, so a peer that accepts a connection and never
   * answers (a hung proxy, a frozen server, a host gone silent without a reset) would otherwise hold
   * the client for good, and hits would never resume.
   */
  #reconnect(): void {
    if (!this.#owned || this.#closed) return;
    const client = this.#client as unknown as { isOpen: boolean; destroy(): void };
    if (client.isOpen) client.destroy(); // commands still in flight reject: they fail open
    // On a later turn: node-redis' connect loop of the socket just destroyed must see it gone first,
    // or it may take the new, still-handshaking connection for ready.
    setImmediate(() => {
      if (!this.#closed && !client.isOpen) this.#client.connect().catch(noop); // failures arrive as 'error' events
    });
  }

  /**
   * `undefined` when commands can be sent now. Otherwise a promise: resolved when the first
   * connection is up (only before it ever was), rejected at once when Redis is known to be down or
   * the circuit breaker skips it. The fast path reads two fields.
   */
  #unavailable(): Promise<void> | undefined {
    if (this.#client.isReady && this.#breaker.closed && !this.#closed) return undefined;
    if (this.#closed) {
      this.#usedAfterClose();
      return Promise.reject(this.#closedError);
    }
    const skipped = this.#breaker.admit();
    if (skipped !== undefined) {
      this.#skipped++;
      return Promise.reject(skipped);
    }
    if (this.#client.isReady) return undefined; // the breaker's probe
    if (this.#everReady || this.#firstWaitOver) {
      const offline = new CacheStoreError('cachette: redis is not connected (reconnecting in the background)', 'redis');
      this.#breaker.failed(offline);
      return Promise.reject(offline);
    }
    this.#firstConnection ??= this.#connectOnce();
    return this.#firstConnection;
  }

  /**
   * Start connecting (lazily, on first use) and wait for the first `ready`, bounded by the timeout.
   * The first failure (refused, unknown host) settles the wait, and so does `close()`: later
   * attempts run in the background. The listeners are the store's own (see the constructor), so
   * waiting adds none to the client.
   */
  #connectOnce(): Promise<void> {
    const client = this.#client;
    const ready = new Promise<void>((resolve, reject) => {
      this.#settleFirstWait = (error) => {
        this.#settleFirstWait = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    if (!client.isOpen) client.connect().catch(noop); // failures arrive as 'error' events; node-redis keeps retrying
    const bounded = this.#deadlines.watch(ready);
    // Later operations fail fast instead of waiting again: the first wait is the only one.
    bounded.catch(noop).finally(() => {
      this.#settleFirstWait = undefined;
      this.#firstWaitOver = true;
      if (this.#client.isReady) this.#everReady = true;
    });
    return bounded;
  }
}

function createOwnClient(connection: RedisConnection, timeoutMs: number): unknown {
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

/** The client with node-redis' per-command `AbortSignal` timeout off (Deadlines bound operations instead). */
function withoutCommandTimeout(client: RedisClientLike, binary: boolean): RedisClientLike {
  const proxy = client as unknown as { withCommandOptions?: (options: Record<string, unknown>) => RedisClientLike };
  if (typeof proxy.withCommandOptions !== 'function') return client;
  return proxy.withCommandOptions({
    timeout: 0,
    ...(binary ? { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } : {}),
  });
}

/** The socket's connect timeout: 4 × the operation timeout, at least 1 s, at most what a Node timer holds. */
function connectTimeoutFor(timeoutMs: number): number {
  // A longer timer would fire at once (and warn).
  return Math.min(Math.max(1_000, timeoutMs * 4), 2 ** 31 - 1);
}

/** Why a connection failed, in words, from the client's (already redacted) error. */
function connectFailure(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const text = error.message;
  if (/^NOAUTH/.test(text)) return 'authentication required: no password given (NOAUTH)';
  if (/^WRONGPASS|invalid (username-)?password|^ERR AUTH/i.test(text)) return `wrong password or user (${text.split(' ')[0]})`;
  if (/DB index is out of range/i.test(text)) return 'database index out of range (SELECT refused)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `unknown host (${String(code)})`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code === 'ECONNRESET') return 'connection reset (ECONNRESET)';
  return `${error.name}: ${text}`;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function toPayload(reply: unknown): string | Buffer | undefined {
  return typeof reply === 'string' || Buffer.isBuffer(reply) ? reply : undefined;
}

/** Made once per store: the hot path allocates no handler per operation. */
function storeError(operation: string, redact: (error: unknown) => unknown): (error: unknown) => CacheStoreError {
  return (error) =>
    error instanceof CacheStoreError ? error : new CacheStoreError(`cachette: redis ${operation} failed`, 'redis', { cause: redact(error) });
}

/** The password of a `redis://` URL, decoded (`undefined` when it has none or does not parse). */
function urlPassword(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
const isRemoved = (count: number): boolean => count > 0;
const isScriptRemoved = (count: unknown): boolean => typeof count === 'number' && count > 0;
const isStored = (reply: unknown): boolean => reply !== null && reply !== undefined;

/** Delete KEYS[1] only while it holds ARGV[1]; replies 1 when deleted, else 0. */
const COMPARE_AND_DELETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
const COMPARE_AND_DELETE_SHA1 = createHash('sha1').update(COMPARE_AND_DELETE).digest('hex');

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Close gracefully (replies to commands in flight are awaited), but for at most `ms`: a frozen or
 * silent server would otherwise hold `close()` forever. Then the connection is cut.
 */
async function closeWithin(client: { close(): Promise<void>; destroy(): void }, ms: number): Promise<void> {
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

/** Reply classes of node-redis, by name too: a client you pass in may come from another copy of it. */
const REPLY_CLASSES = new Set(['ErrorReply', 'SimpleError', 'BlobError']);

/**
 * A reply refusing the command (`OOM`, `READONLY`, `WRONGTYPE`, `NOPERM` …): Redis is up and
 * answering, so the breaker must not open. `LOADING`, `BUSY` and `MASTERDOWN` say the server can serve
 * nothing right now: those count as outages.
 */
function isRefusal(error: unknown): boolean {
  const reply = error instanceof CacheStoreError ? error.cause : error;
  if (!(reply instanceof Error)) return false;
  if (!(reply instanceof ErrorReply) && !REPLY_CLASSES.has(reply.constructor.name)) return false;
  return !/^(LOADING|BUSY|MASTERDOWN)\b/.test(reply.message);
}

function isReadOnlyReply(error: unknown): boolean {
  return isRefusal(error) && (error as Error).message.startsWith('READONLY');
}

/** Redis PX takes a positive integer: round a TTL up, never to 0. */
function wholeMs(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

function noop(): void {}
