/**
 * The Redis store: operations bounded by deadlines and a circuit breaker, the connection's lifecycle
 * (first connection, `connect()`, recovery, close) and failures redacted as they come in. The client's
 * shape and creation are in `redis-client.ts`; reply handling and command arguments in `redis-replies.ts`.
 * @module
 */
import { createClient } from 'redis';
import { DEFAULT_OP_TIMEOUT_MS } from '../defaults.js';
import { CacheConfigError, CachePartialReadError, CacheStoreError, CacheTimeoutError, CacheUnavailableError } from '../errors.js';
import { callQuietly, CircuitBreaker, type BreakerOptions, type ConnectionState, type StoreHealth } from './breaker.js';
import { Deadlines } from './deadlines.js';
import { redactor } from './redact.js';
import { createOwnCluster, isCluster, keySlot, NodeBreakers, type RedisClusterLike, type RedisClusterOptions } from './redis-cluster.js';
import {
  closeWithin,
  connectTimeoutFor,
  createOwnClient,
  isSentinelClient,
  unsupportedClient,
  urlPassword,
  withoutCommandTimeout,
  type RedisClientLike,
  type RedisConnection,
  type RedisSentinelOptions,
} from './redis-client.js';
import {
  COMPARE_AND_DELETE,
  COMPARE_AND_DELETE_SHA1,
  COMPARE_AND_SET,
  COMPARE_AND_SET_SHA1,
  connectFailure,
  isNoScript,
  isReadOnlyReply,
  isRefusal,
  isRemoved,
  isScriptRemoved,
  isStored,
  toPayload,
  toPayloads,
  wholeMs,
} from './redis-replies.js';
import type { KeyWatch, KeyWatchListener, Store } from './store.js';
import { RedisKeyWatch, type TrackingClient, type WatchTopology } from './redis-tracking.js';

/** What the store knows about an outage that just ended (see the `onRecovery` option of {@link RedisStoreOptions}). */
export interface RedisRecovery {
  /** How long Redis was unusable, in ms of the breaker's clock: from the first failure to the first success. */
  readonly downMs: number;
  /** Operations not attempted meanwhile because the circuit breaker was open (what `stats.skipped` counts). */
  readonly skipped: number;
}

/** Options of {@link RedisStore}. */
export type RedisStoreOptions = (
  | RedisConnection
  | {
      /** A Redis Cluster the store creates with node-redis `createCluster` (closed by `close()`). */
      cluster: RedisClusterOptions;
    }
) & {
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
 * - On a Redis Cluster (`cluster` options, or a `createCluster()` object as `client`), commands are
 *   routed by key and each master has a breaker of its own: a dead master costs only the hits of its
 *   own slots, and commands for them fail at once (no offline queue in a cluster the store creates).
 *   `getMany` sends one `MGET` per hash slot (`GET` for one key), all in the same tick (one round
 *   trip per master).
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
   * The client is a node-redis `RedisSentinel`: it rediscovers the primary and retries a command by
   * itself (so a write may be applied twice), and its `sendCommand` takes other arguments.
   */
  readonly #sentinel: boolean;
  /**
   * `sendCommand` of a text client the store created, or `undefined`. GET, GETEX and SET go through it
   * as raw argument lists: node-redis' typed command layer (argument parser, an async frame, a
   * tracing closure) is about 0.24 µs of CPU per hit at 64 in flight, and these replies need no
   * transformation. A client you pass in keeps its typed commands (its options may map types).
   */
  readonly #send: ((args: string[]) => Promise<unknown>) | undefined;
  readonly #deadlines: Deadlines;
  readonly #breaker: CircuitBreaker;
  /** On a Redis Cluster: the cluster object, and one breaker per master (`#breaker` is then unused by operations). */
  readonly #cluster: RedisClusterLike | undefined;
  readonly #nodes: NodeBreakers | undefined;
  /** The event that says the client is ready: `'ready'`, or `'connect'` for a cluster. */
  readonly #readyEvent: 'ready' | 'connect';
  /** The Sentinel settings the store was given (the tier's tracking connections need them). */
  readonly #sentinelOptions: RedisSentinelOptions | undefined;
  /** Values are read as Buffers (a binary serializer). */
  readonly #binary: boolean;
  /** The tier's key watch, closed with the store. */
  #watch: KeyWatch | undefined;
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
    const onClose = breaker?.onClose;
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
      onClose: (health) => {
        this.#recovered();
        callQuietly(onClose, health);
      },
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
    if ('cluster' in options) {
      this.#client = createOwnCluster(options.cluster, timeoutMs) as unknown as RedisClientLike;
      this.#owned = true;
    } else if ('client' in options) {
      const refused = unsupportedClient(options.client);
      if (refused !== undefined) throw new CacheConfigError(`cachette: store.client: ${refused}`, 'store.client');
      this.#client = options.client;
      this.#owned = false;
    } else {
      this.#client = createOwnClient(options, timeoutMs) as unknown as RedisClientLike;
      this.#owned = true;
    }
    this.#sentinel = isSentinelClient(this.#client);
    const sentinel = 'sentinel' in options ? options.sentinel : undefined;
    this.#sentinelOptions = sentinel;
    this.#cluster = isCluster(this.#client) ? this.#client : undefined;
    this.#readyEvent = this.#cluster === undefined ? 'ready' : 'connect';
    this.#nodes =
      this.#cluster === undefined
        ? undefined
        : new NodeBreakers(this.#cluster, {
            ...breaker,
            isOutage: (error) => !isRefusal(error),
            // One node down: report it, but never drop the whole cluster's connections.
            onOpen: (health, error) => {
              this.#downSince ??= this.#clock();
              callQuietly(onOpen, health, error);
            },
            onClose: (health) => {
              this.#recovered();
              callQuietly(onClose, health);
            },
          });
    // A cluster's passwords (root URLs and `defaults`, whether the store made it or you did) are in
    // node-redis' `_options`: a test fails if that ever changes.
    const givenCluster = (this.#client as { _options?: { defaults?: { password?: string }; rootNodes?: Array<{ url?: string }> } })._options;
    this.#redact = redactor([
      givenCluster?.defaults?.password,
      ...(givenCluster?.rootNodes ?? []).map((node) => (node.url === undefined ? undefined : urlPassword(node.url))),
      'password' in options ? options.password : undefined,
      'url' in options ? urlPassword(options.url) : undefined,
      (this.#client as { options?: { password?: unknown } }).options?.password as string | undefined,
      secretOf(sentinel?.nodeClientOptions),
      secretOf(sentinel?.sentinelClientOptions),
    ]);
    this.#failedRead = storeError('read', this.#redact);
    this.#failedWrite = storeError('write', this.#redact);
    this.#failedDelete = storeError('delete', this.#redact);
    // A client the store created already has node-redis' command timeout off; only a client you
    // passed in (or a binary store) needs the per-store command options proxy.
    this.#commands = this.#owned && options.binary !== true ? this.#client : withoutCommandTimeout(this.#client, options.binary === true);
    const raw = this.#client as unknown as { sendCommand?: (args: string[]) => Promise<unknown> };
    const cluster = this.#cluster;
    // A cluster's sendCommand routes by the key it is given: GET, GETEX, SET and MGET have it at [1].
    this.#binary = options.binary === true;
    this.#send = !this.#owned || this.#sentinel || options.binary === true || typeof raw.sendCommand !== 'function' ? undefined
      : cluster === undefined ? raw.sendCommand.bind(raw)
      : (args) => cluster.sendCommand(args[1] as string, args[0] === 'GET' || args[0] === 'MGET', args);
    const onError = options.onConnectionError;
    this.#onClientError = (error: Error) => {
      const redacted = this.#redact(error);
      // A sentinel emits some of its errors as strings.
      const safe = typeof redacted === 'string' ? new Error(redacted) : (redacted as Error);
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
    this.#client.on(this.#readyEvent as 'ready', this.#onClientReady);
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
    return { ...(this.#nodes?.health() ?? this.#breaker.health()), connection: this.connection };
  }

  get(key: string): Promise<string | Buffer | undefined> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.get(key));
    const send = this.#send;
    return this.#deadlines.watch(send === undefined ? this.#commands.get(key) : send(['GET', key]), toPayload, this.#failedRead, breaker);
  }

  /**
   * The payloads of `keys`, in order, in one `MGET` (one round trip): bounded by the operation
   * timeout and the breaker like every operation. A client you pass in without `mGet` is read key by
   * key (in parallel: node-redis still sends them in one write).
   */
  getMany(keys: readonly string[]): Promise<ReadonlyArray<string | Buffer | undefined>> {
    if (keys.length === 0) return Promise.resolve([]);
    if (this.#nodes !== undefined) return this.#getManyBySlot(keys, this.#nodes);
    const blocked = this.#unavailable();
    if (blocked) return blocked.then(() => this.getMany(keys));
    const send = this.#send;
    if (send !== undefined) return this.#deadlines.watch(send(['MGET', ...keys]), toPayloads(keys.length), this.#failedRead);
    const commands = this.#commands;
    if (commands.mGet === undefined) return Promise.all(keys.map((key) => this.get(key)));
    return this.#deadlines.watch(commands.mGet([...keys]), toPayloads(keys.length), this.#failedRead);
  }

  /**
   * `GET` and `PTTL` of `key`, sent together (one round trip, same node): the payload and its
   * remaining time to live in ms (`undefined` for no expiry).
   */
  getWithExpiry(key: string): Promise<readonly [string | Buffer | undefined, number | undefined]> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.getWithExpiry(key));
    const send = this.#send;
    const cluster = this.#cluster;
    const commands = this.#commands as RedisClientLike & { pTTL?: (key: string) => Promise<unknown> };
    // On a cluster both go to the key's master even with useReplicas: a lagging replica could answer
    // with a value older than a change already announced, and the tier would keep it.
    const read = cluster !== undefined && !this.#binary ? cluster.sendCommand(key, false, ['GET', key]) : send === undefined ? commands.get(key) : send(['GET', key]);
    const ttl = cluster !== undefined ? cluster.sendCommand(key, false, ['PTTL', key]) : send === undefined ? (commands.pTTL?.(key) ?? Promise.resolve(-3)) : send(['PTTL', key]);
    return this.#deadlines.watch(Promise.all([read, ttl]), withExpiry, this.#failedRead, breaker);
  }

  /**
   * Watch every key under `prefix` for changes (see `redis-tracking.ts`): one `cachette-l1` RESP3
   * connection per master, with the store's credentials and TLS.
   * @throws {CacheConfigError} for a client of yours that cannot be duplicated, or a Sentinel
   *   object of yours (pass `store.sentinel` settings instead).
   */
  watchKeys(prefix: string, listener: KeyWatchListener): KeyWatch {
    const replicas = (this.#cluster as { _options?: { useReplicas?: boolean } } | undefined)?._options?.useReplicas === true;
    if (replicas && this.#binary) throw new CacheConfigError('cachette: l1: fills cannot read from masters only on a cluster with useReplicas when entries are read as bytes (a binary serializer, or compression): turn useReplicas off', 'l1');
    const watch = new RedisKeyWatch({ prefix, listener, topology: this.#topology(), intervalMs: WATCH_INTERVAL_MS, redact: this.#redact });
    this.#watch = watch;
    return watch;
  }

  #topology(): WatchTopology {
    const tracking = { RESP: 3, emitInvalidate: true, name: 'cachette-l1', disableOfflineQueue: true, commandOptions: { timeout: 0 } } as const;
    const cluster = this.#cluster;
    if (cluster !== undefined) {
      const defaults = ((cluster as { _options?: { defaults?: Record<string, unknown> } })._options?.defaults ?? {}) as { socket?: Record<string, unknown> };
      return {
        masters: () => (cluster.masters.length === 0 ? undefined : cluster.masters.map((master) => master.address)),
        masterOf: (key) => cluster.slots[keySlot(key)]?.master.address,
        open: (address) => createClient({ ...defaults, ...tracking, socket: { ...defaults.socket, ...hostPort(address) } }) as unknown as TrackingClient,
      };
    }
    if (this.#sentinel) {
      const settings = this.#sentinelOptions;
      if (settings === undefined) throw new CacheConfigError('cachette: l1: needs the Sentinel settings to open its tracking connections: pass store.sentinel instead of your own sentinel object', 'l1');
      const sentinel = this.#client as unknown as { getMasterNode(): { host: string; port: number } | undefined };
      const node = (settings.nodeClientOptions ?? {}) as { socket?: Record<string, unknown> };
      const primary = (): string | undefined => {
        const master = sentinel.getMasterNode();
        return master === undefined ? undefined : `${master.host}:${master.port}`;
      };
      return {
        masters: () => {
          const address = primary();
          return address === undefined ? undefined : [address];
        },
        masterOf: primary,
        open: (address) => createClient({ ...node, ...tracking, socket: { ...node.socket, ...hostPort(address) } }) as unknown as TrackingClient,
      };
    }
    const client = this.#client as unknown as { duplicate?: (overrides: Record<string, unknown>) => unknown };
    if (typeof client.duplicate !== 'function') throw new CacheConfigError('cachette: l1: needs a node-redis client it can duplicate() for its tracking connection', 'l1');
    return {
      masters: () => ['redis'],
      masterOf: () => 'redis',
      open: () => (client.duplicate as (overrides: Record<string, unknown>) => unknown).call(client, tracking) as TrackingClient,
    };
  }

  getAndExpire(key: string, ttlMs: number): Promise<string | Buffer | undefined> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.getAndExpire(key, ttlMs));
    const send = this.#send;
    if (this.#extendRefused) return this.#deadlines.watch(send === undefined ? this.#commands.get(key) : send(['GET', key]), toPayload, this.#failedRead, breaker);
    if (send !== undefined) {
      const args = ttlMs === Infinity ? ['GETEX', key, 'PERSIST'] : ['GETEX', key, 'PX', String(wholeMs(ttlMs))];
      return this.#deadlines.watch(send(args), toPayload, this.#failedExtend, breaker);
    }
    const expiry = ttlMs === Infinity ? ({ type: 'PERSIST' } as const) : ({ type: 'PX', value: wholeMs(ttlMs) } as const);
    return this.#deadlines.watch(this.#commands.getEx(key, expiry), toPayload, this.#failedExtend, breaker);
  }

  set(key: string, value: string | Buffer, ttlMs: number | undefined): Promise<void> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.set(key, value, ttlMs));
    const forever = ttlMs === undefined || ttlMs === Infinity;
    const send = this.#send;
    if (send !== undefined && typeof value === 'string') {
      const args = forever ? ['SET', key, value] : ['SET', key, value, 'PX', String(wholeMs(ttlMs))];
      return this.#deadlines.watch(send(args), this.#written, this.#failedWrite, breaker);
    }
    const options = forever ? undefined : { expiration: { type: 'PX' as const, value: wholeMs(ttlMs) } };
    return this.#deadlines.watch(this.#commands.set(key, value, options), this.#written, this.#failedWrite, breaker);
  }

  delete(key: string): Promise<boolean> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.delete(key));
    return this.#deadlines.watch(this.#commands.del(key), isRemoved, this.#failedDelete, breaker);
  }

  /**
   * `SET key value NX PX ttlMs`: `true` when this call stored the value. On Sentinel, node-redis
   * replays a command whose connection was lost (after rediscovering the primary), so a `SET NX` that
   * was applied may come back refused because the key now holds its own value: a refusal is then
   * checked with a `GET`, and the key holding `value` (a unique lock token) counts as stored.
   */
  setIfAbsent(key: string, value: string | Buffer, ttlMs: number): Promise<boolean> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.setIfAbsent(key, value, ttlMs));
    const options = { condition: 'NX' as const, expiration: { type: 'PX' as const, value: wholeMs(ttlMs) } };
    const commands = this.#commands;
    const reply = this.#sentinel
      ? commands.set(key, value, options).then((stored) => (isStored(stored) ? stored : commands.get(key).then((held) => (sameValue(held, value) ? 'OK' : null))))
      : commands.set(key, value, options);
    return this.#deadlines.watch(reply, isStored, this.#failedWrite, breaker);
  }

  /**
   * Compare-and-delete in one Lua script: `EVALSHA`, and `EVAL` with the whole script when Redis
   * does not have it cached yet (`NOSCRIPT`: first use, or after `SCRIPT FLUSH` or a restart).
   */
  deleteIfEquals(key: string, value: string | Buffer): Promise<boolean> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.deleteIfEquals(key, value));
    const options = { keys: [key], arguments: [value] };
    const commands = this.#commands;
    const reply = commands
      .evalSha(COMPARE_AND_DELETE_SHA1, options)
      .catch((error: unknown) => (isNoScript(error) ? commands.eval(COMPARE_AND_DELETE, options) : Promise.reject(error)));
    return this.#deadlines.watch(reply, isScriptRemoved, this.#failedDelete, breaker);
  }

  /** Compare-and-set keeping the TTL, in one Lua script (`EVALSHA`, falling back to `EVAL` on `NOSCRIPT`). */
  replaceIfEquals(key: string, expected: string | Buffer, value: string | Buffer): Promise<boolean> {
    const breaker = this.#nodes?.forKey(key) ?? this.#breaker;
    const blocked = this.#unavailable(breaker);
    if (blocked) return blocked.then(() => this.replaceIfEquals(key, expected, value));
    const options = { keys: [key], arguments: [expected, value] };
    const commands = this.#commands;
    const reply = commands
      .evalSha(COMPARE_AND_SET_SHA1, options)
      .catch((error: unknown) => (isNoScript(error) ? commands.eval(COMPARE_AND_SET, options) : Promise.reject(error)));
    return this.#deadlines.watch(reply, isScriptRemoved, this.#failedWrite, breaker);
  }

  /**
   * `getMany` on a cluster: one `MGET` per hash slot, a `GET` for a slot with one key (Redis refuses one across slots, even on one
   * node), all sent in the same tick, so each master's are written together: one round trip per
   * master. Each `MGET` is bounded and counted by its master's breaker. When some fail (one master
   * down), a {@link CachePartialReadError} carries the others' payloads: their keys still hit.
   */
  #getManyBySlot(keys: readonly string[], nodes: NodeBreakers): Promise<ReadonlyArray<string | Buffer | undefined>> {
    const bySlot = new Map<number, number[]>();
    keys.forEach((key, index) => {
      const slot = keySlot(key);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [index]);
      else group.push(index);
    });
    const out = new Array<string | Buffer | undefined>(keys.length);
    let failed = 0;
    let firstFailure: unknown;
    const send = this.#send;
    const commands = this.#commands;
    const reads = [...bySlot.values()].map((indexes) => {
      const slotKeys = indexes.map((index) => keys[index] as string);
      const breaker = nodes.forKey(slotKeys[0] as string);
      const blocked = this.#unavailable(breaker);
      const reply = (): Promise<ReadonlyArray<string | Buffer | undefined>> => {
        // A slot with one key (the usual case for keys without hash tags) is read with GET: the same
        // round trip, less work on both ends than a one-key MGET.
        const sent =
          slotKeys.length === 1 && send !== undefined ? send(['GET', slotKeys[0] as string]).then(asOne)
          : send !== undefined ? send(['MGET', ...slotKeys])
          : commands.mGet !== undefined ? commands.mGet(slotKeys)
          : Promise.all(slotKeys.map((key) => commands.get(key)));
        return this.#deadlines.watch(sent as Promise<unknown>, toPayloads(slotKeys.length), this.#failedRead, breaker);
      };
      return (blocked ? blocked.then(reply) : reply()).then(
        (payloads) => {
          indexes.forEach((index, i) => (out[index] = payloads[i]));
        },
        (error: unknown) => {
          failed += indexes.length;
          firstFailure ??= error;
        },
      );
    });
    return Promise.all(reads).then(() => {
      if (failed === 0) return out;
      if (failed === keys.length) throw firstFailure;
      throw new CachePartialReadError(`cachette: redis read failed for ${failed} of ${keys.length} keys`, 'redis', out, failed, { cause: firstFailure });
    });
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
    await this.#watch?.close();
    this.#closedError = new CacheUnavailableError('cachette: redis skipped: the cache was closed (cache.close() was called)', 'redis');
    this.#settleFirstWait?.(this.#closedError);
    for (const waiter of this.#connectWaiters) waiter(new Error('the store was closed'));
    if (this.#owned) {
      const own = this.#client as unknown as { isOpen: boolean; isReady: boolean; close(): Promise<void>; destroy(): unknown };
      // A sentinel's destroy() is async: its rejection is caught, not left unhandled.
      const client = { close: () => own.close(), destroy: () => void Promise.resolve(own.destroy()).catch(noop) };
      if (own.isOpen) {
        if (own.isReady === false) client.destroy(); // not connected: nothing to flush, stop reconnecting
        else await closeWithin(client, this.#deadlines.timeoutMs);
      }
      // Whatever the client did not settle is over now: its connection is gone.
      this.#deadlines.expireAll(this.#closedError);
    } else {
      // Your client stays open: operations in flight on it still end in time (the deadline timer
      // stops by itself once none is pending). Only the store's listeners are taken off.
      this.#client.removeListener?.('error', this.#onClientError);
      this.#client.removeListener?.(this.#readyEvent as 'ready', this.#onClientReady);
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
    if (!this.#owned || this.#closed || this.#cluster !== undefined) return;
    if (this.#sentinel) {
      // node-redis rediscovers the primary and reconnects by itself; only a sentinel whose first
      // connection gave up (it then closes itself) is opened again.
      if (!this.#client.isOpen) this.#client.connect().catch(noop);
      return;
    }
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
  #unavailable(breaker: CircuitBreaker = this.#breaker): Promise<void> | undefined {
    if (this.#client.isReady && breaker.closed && !this.#closed) return undefined;
    if (this.#closed) {
      this.#usedAfterClose();
      return Promise.reject(this.#closedError);
    }
    const skipped = breaker.admit();
    if (skipped !== undefined) {
      this.#skipped++;
      return Promise.reject(skipped);
    }
    if (this.#client.isReady) return undefined; // the breaker's probe
    if (this.#everReady || this.#firstWaitOver) {
      const offline = new CacheStoreError('cachette: redis is not connected (reconnecting in the background)', 'redis');
      breaker.failed(offline);
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
    // A failed first discovery of a cluster is no 'error' event: it settles the wait here.
    if (!client.isOpen) client.connect().catch((error: unknown) => (this.#cluster === undefined ? undefined : this.#onClientError(asError(error)))); // failures arrive as 'error' events; node-redis keeps retrying
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

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Made once per store: the hot path allocates no handler per operation. */
function storeError(operation: string, redact: (error: unknown) => unknown): (error: unknown) => CacheStoreError {
  return (error) =>
    error instanceof CacheStoreError ? error : new CacheStoreError(`cachette: redis ${operation} failed`, 'redis', { cause: redact(error) });
}

function noop(): void {}

/** The `password` of node-redis client options, if a string. */
function secretOf(options: Record<string, unknown> | undefined): string | undefined {
  return typeof options?.password === 'string' ? options.password : undefined;
}

function sameValue(held: unknown, value: string | Buffer): boolean {
  if (typeof value === 'string') return typeof held === 'string' ? held === value : Buffer.isBuffer(held) && held.toString() === value;
  return Buffer.isBuffer(held) && held.equals(value);
}

/** A single reply as the one-element array an `MGET` of one key would give. */
function asOne(reply: unknown): unknown[] {
  return [reply];
}

/** How often the tier's key watch re-checks the topology and each tracked node's role. */
const WATCH_INTERVAL_MS = 1000;

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** `[payload, PTTL]` → the payload and its remaining ms (`undefined`: no expiry, or gone). */
function withExpiry(reply: unknown): readonly [string | Buffer | undefined, number | undefined] {
  const [payload, ttl] = reply as [unknown, unknown];
  const ms = Number(ttl);
  return [toPayload(payload), ms >= 0 ? ms : ms === -1 ? undefined : 0];
}
