/**
 * Options of `createCache(config)`: the store forms (Redis by URL, by host, by client; memory; your
 * own `Store`), namespace, serializer, logger, clock and circuit breaker, and their schema.
 * @module
 */
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { MAX_MEMORY_ENTRIES } from '../defaults.js';
import type { Duration } from '../duration.js';
import { describeReceived, toMs } from '../duration.js';
import type { Logger } from '../log.js';
import { hasAlgorithm, type CompressionAlgorithm } from '../serializers/compression.js';
import type { Serializer } from '../serializers/serializer.js';
import { unsupportedClient, type RedisClientLike, type RedisSentinelOptions, type RedisSocketOptions } from '../stores/redis-client.js';
import type { RedisClusterOptions } from '../stores/redis-cluster.js';
import type { Store } from '../stores/store.js';
import { booleanOr, integer, isFunction, isObject, nested, nonEmpty, text, timerDuration, agree, type SameKeys } from './fields.js';

/** Settings shared by every Redis store form. */
export interface RedisCommonConfig {
  /** Selects the Redis store. */
  type: 'redis';
  /**
   * Longest time one store operation may take before it counts as failed (the call then goes to
   * the origin). Positive and at most 2^31−1 ms (about 24.8 days).
   * @defaultValue 500 (ms)
   */
  opTimeout?: Duration;
}

/**
 * Redis reached by URL: `redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS.
 * Percent-encode reserved characters (`#`, `?`, `/`, `@`, `:`, `%`) in the user name and password.
 */
export interface RedisUrlConfig extends RedisCommonConfig {
  /** `redis[s]://[[user]:password@]host[:port][/db]`, user name and password percent-encoded. */
  url: string;
}

/** Redis reached by host and port (`localhost:6379` when both are left out). */
export interface RedisSocketConfig extends RedisCommonConfig, RedisSocketOptions {}

/** Your own node-redis client or sentinel. cachette connects it if needed and never closes it. */
export interface RedisClientConfig extends RedisCommonConfig {
  /** Your node-redis client (`createClient()`) or sentinel (`createSentinel()`); connected on first use if needed, never closed. */
  client: RedisClientLike;
}

/**
 * A Sentinel-managed primary, through node-redis' `createSentinel` (same option names). Calls follow
 * the primary through a failover: meanwhile they fail open (they go to the origin), then hits resume.
 */
export interface RedisSentinelConfig extends RedisCommonConfig {
  /** `{ name, sentinelRootNodes: [{ host, port }], nodeClientOptions?, sentinelClientOptions? }`. */
  sentinel: RedisSentinelOptions;
}

/**
 * A Redis Cluster, through node-redis `createCluster`. Keys are routed by hash slot; a dead master
 * costs only the hits of its own slots (each master has a circuit breaker of its own).
 */
export interface RedisClusterConfig extends RedisCommonConfig {
  /** Root nodes to discover the cluster from, and what every node gets (credentials, TLS). */
  cluster: RedisClusterOptions;
}

/** An in-process store, bounded by entry count (and optionally bytes) with least-recently-used eviction. */
export interface MemoryStoreConfig {
  /** Selects the memory store. */
  type: 'memory';
  /** Most entries kept; the least recently used go first. At most 2^31−1. @defaultValue 10000 */
  maxEntries?: number;
  /**
   * Most bytes the entries may take, each counted as its key and its encoded entry (2 bytes a
   * character for text, the byte length for a binary serializer's); the least recently used go first.
   * A result larger than this on its own is returned but not cached (counted in `stats.errors`,
   * reported as a `write` failure). Applies together with `maxEntries`. Decoded values kept for hits
   * are not counted. @defaultValue undefined (no byte bound)
   */
  maxBytes?: number;
}

/** Where a cache keeps its entries: a store description, or any {@link Store} object. */
export type StoreConfig = RedisUrlConfig | RedisSocketConfig | RedisClientConfig | RedisSentinelConfig | RedisClusterConfig | MemoryStoreConfig | Store;

/** Options of {@link createCache}. */
export interface CacheConfig {
  /** @defaultValue `{ type: 'memory' }` */
  store?: StoreConfig;
  /** First segment of every key, e.g. `'app'` → `app:getUser:42`. @defaultValue none */
  namespace?: string;
  /**
   * How values are encoded: a built-in codec by name, or your own {@link Serializer}.
   * - `'json'`: plain JSON, readable in `redis-cli`; values plain JSON would change (Date, Map, Set,
   *   BigInt …) are written in a tagged JSON form (see {@link jsonSerializer}).
   * - `'rich'`: every value in the tagged JSON form, which also keeps `RegExp` (see {@link richSerializer}).
   * - `'msgpack'`: MessagePack, binary and compact (see {@link msgpackSerializer}); the Redis store
   *   then reads bytes.
   *
   * Each entry records the codec that wrote it: a cache reading another codec's entry treats it as a
   * miss and overwrites it, so a deploy may change this option.
   * @defaultValue `'json'`
   */
  serializer?: SerializerName | Serializer;
  /**
   * Compress payloads of `threshold` bytes or more (the serializer's output, before the entry header).
   * Each entry records whether and how it was compressed, so a cache reads compressed and
   * uncompressed entries alike, and this option may change between deploys. With compression the
   * Redis store reads values as bytes. See the "Serializers and compression" guide.
   * @defaultValue none: nothing is compressed
   */
  compression?: CompressionConfig;
  /**
   * Receives cache-layer failures (`warn`) with a structured object first, pino style. Never given
   * cached values or call arguments. What it returns is ignored: a `warn` that throws or rejects
   * never fails a call.
   * @defaultValue a quiet logger: one `console.warn` line per Redis outage and one per recovery, the first failure of each other kind; the rest only counted
   */
  logger?: Logger;
  /** Time source for entry timestamps and memory-store expiry. For tests. @defaultValue `Date.now` */
  clock?: Clock;
  /**
   * How often each process re-reads the clear generations: the bound within which a `clear()` made
   * by another process stops this one serving the cleared entries (this process's own `clear()`
   * applies at once). One `MGET` per interval per cache, off the call path. A `Duration`, 10 ms to
   * about 24.8 days.
   * @defaultValue `'1s'`
   */
  clearPollInterval?: Duration;
  /**
   * The Redis store's circuit breaker: after `threshold` consecutive failures (lost connection,
   * timeout) calls skip Redis for `cooldown` and go straight to the origin (counted in
   * `stats.skipped`), then one probe operation decides whether to close it. `true` uses the defaults;
   * `false` never opens it. Memory stores and your own `Store` objects have no breaker: ignored there.
   * State: {@link Cache.health}.
   * @defaultValue `{ threshold: 5, cooldown: 2000 }`
   */
  breaker?: BreakerConfig | boolean;
  /**
   * An in-process tier in front of a Redis store: decoded values served from this process's memory,
   * dropped in every process when the entry changes anywhere (Redis client tracking). Hits it serves
   * cost no round trip and no decoding. See the "Two tiers" guide. Needs a Redis store.
   */
  l1?: L1Config;
}

/** Settings of {@link CacheConfig.compression}. */
export interface CompressionConfig {
  /** The smallest payload compressed, in bytes (a non-negative integer; `0` compresses every payload). */
  threshold: number;
  /**
   * `'deflate'` (raw deflate, level 1) or `'brotli'` (quality 4): every Node decodes both. `'zstd'`
   * only on a Node whose `node:zlib` has it (22.15+, 23.8+; refused elsewhere) and only when every
   * process that reads the store has it too: one without it reads zstd entries as misses.
   * @defaultValue 'deflate'
   */
  algorithm?: CompressionAlgorithm;
}

/** The built-in serializers, by the name {@link CacheConfig.serializer} takes. */
export type SerializerName = 'json' | 'rich' | 'msgpack';

/** Settings of the in-process tier ({@link CacheConfig.l1}). */
export interface L1Config {
  /** Most entries held; the least recently used go first. */
  maxEntries: number;
  /**
   * Most bytes held, counted as the encoded entries' sizes (UTF-16 code units count 2) plus their
   * keys'. An entry larger than this is not held (it is served from Redis). @defaultValue no bound
   */
  maxBytes?: number;
  /** Longest time an entry is held, whatever its remaining TTL in Redis. @defaultValue the entry's TTL */
  ttl?: Duration;
  /**
   * What a hit hands out. `'shared'`: the one decoded object, the same for every caller: never
   * mutate it. `'frozen'`: that object deep-frozen (plain objects and arrays), so a mutation throws
   * in strict mode. `'copied'`: decoded again for each hit (a private copy, no decoding saved).
   * @defaultValue 'shared'
   */
  values?: 'shared' | 'frozen' | 'copied';
}

/** Settings of the Redis store's circuit breaker ({@link CacheConfig.breaker}). */
export interface BreakerConfig {
  /**
   * Consecutive failures (connection errors, timeouts; not refusals such as `OOM` or `READONLY`) that
   * open the breaker. A positive integer.
   * @defaultValue 5
   */
  threshold?: number;
  /**
   * How long an open breaker skips Redis before one probe operation is let through. Positive, at most
   * 2^31−1 ms.
   * @defaultValue 2000 (ms)
   */
  cooldown?: Duration;
}

const storeObject = z.custom<Store>(
  (value) => isObject(value) && isFunction(value.get) && isFunction(value.set) && isFunction(value.delete),
);

const redisClient = z.custom<RedisClientLike>(
  (value) => isObject(value) && isFunction(value.get) && isFunction(value.set) && isFunction(value.connect) && unsupportedClient(value) === undefined,
  { error: (issue) => unsupportedClient(issue.input) ?? 'expected a node-redis client (createClient() or createSentinel() from the redis package)' },
);

/** node-redis client options (credentials, TLS, database …): an object, checked by node-redis itself. */
const clientOptions = z.custom<Record<string, unknown>>((value) => isObject(value) && !Array.isArray(value), {
  error: (issue) => `expected node-redis client options (an object), received ${describeReceived(issue.input)}`,
});

const sentinelRootNode = z
  .object(
    {
      host: nonEmpty('a host name'),
      port: integer(1, 65535, 'an integer from 1 to 65535'),
    },
    { error: (issue) => `expected { host, port }, received ${describeReceived(issue.input)}` },
  )
  .strict();

const sentinelSchema = z
  .object(
    {
      name: nonEmpty('the monitored master name (a string)'),
      sentinelRootNodes: z
        .array(sentinelRootNode, { error: (issue) => `expected an array of { host, port }, received ${describeReceived(issue.input)}` })
        .min(1, { error: 'must list at least one sentinel' }),
      nodeClientOptions: clientOptions.optional(),
      sentinelClientOptions: clientOptions.optional(),
    },
    { error: (issue) => `expected { name, sentinelRootNodes, … }, received ${describeReceived(issue.input)}` },
  )
  .strict();

const PERCENT_ENCODE = 'percent-encode #, ?, /, @, : and % in the user name and password (encodeURIComponent)';

/**
 * `redis[s]://…` that node-redis can read without surprises. `new URL` throws a `TypeError` whose
 * `input` is the whole URL, password included: it is caught here and only the rule is reported.
 */
const redisUrl = text('a string (redis://…)').superRefine((value, ctx) => {
  if (!/^rediss?:\/\//.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'must start with redis:// or rediss://' });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `is not a valid URL; ${PERCENT_ENCODE}` });
    return;
  }
  if (url.hash !== '' || url.search !== '' || value.includes('#') || value.includes('?')) {
    ctx.addIssue({ code: 'custom', message: `has a # or ? part, which redis URLs do not use; ${PERCENT_ENCODE}` });
    return;
  }
  if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: `has no host; ${PERCENT_ENCODE}` });
    return;
  }
  if (url.pathname.length > 1 && !/^\/\d{1,5}$/.test(url.pathname)) {
    ctx.addIssue({ code: 'custom', message: `must end in /<database number> or nothing after the host; ${PERCENT_ENCODE}` });
    return;
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    ctx.addIssue({ code: 'custom', message: `has a malformed %-escape in the user name or password; ${PERCENT_ENCODE}` });
  }
});

const clusterSchema = z
  .object({
    rootNodes: z
      .array(z.object({ url: redisUrl }).strict(), { error: (issue) => `expected an array of { url }, received ${describeReceived(issue.input)}` })
      .min(1, { error: 'must name at least one node' }),
    defaults: z
      .object({
        username: text().optional(),
        password: text().optional(),
        tls: z.union([z.boolean(), z.record(z.string(), z.unknown())], { error: 'expected a boolean or tls.connect options' }).optional(),
      })
      .strict()
      .optional(),
    useReplicas: z.boolean({ error: (issue) => `expected a boolean, received ${describeReceived(issue.input)}` }).optional(),
  })
  .strict();

const redisStoreSchema = z
  .object({
    type: z.literal('redis'),
    url: redisUrl.optional(),
    client: redisClient.optional(),
    sentinel: sentinelSchema.optional(),
    cluster: z.unknown().superRefine((value, ctx) => nested(clusterSchema, value, ctx)).optional(),
    host: nonEmpty('a host name').optional(),
    port: integer(1, 65535, 'an integer from 1 to 65535').optional(),
    username: text().optional(),
    password: text().optional(),
    db: integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer').optional(),
    tls: z.union([z.boolean(), z.record(z.string(), z.unknown())], { error: 'expected a boolean or tls.connect options' }).optional(),
    opTimeout: timerDuration(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const socketFields = (['host', 'port', 'username', 'password', 'db', 'tls'] as const).filter((f) => value[f] !== undefined);
    if (value.url !== undefined && value.client !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['client'], message: 'give either url or client, not both' });
    }
    if (value.sentinel !== undefined && (value.url !== undefined || value.client !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['sentinel'], message: `cannot be combined with ${value.url !== undefined ? 'url' : 'client'}` });
    }
    if (value.cluster !== undefined && (value.url !== undefined || value.client !== undefined || value.sentinel !== undefined)) {
      const with_ = value.url !== undefined ? 'url' : value.client !== undefined ? 'client' : 'sentinel';
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: `cannot be combined with ${with_}` });
    }
    const other =
      value.url !== undefined ? 'url' : value.client !== undefined ? 'client' : value.sentinel !== undefined ? 'sentinel' : value.cluster !== undefined ? 'cluster' : undefined;
    if (other && socketFields.length > 0) {
      const hint = other === 'sentinel' ? ' (credentials, TLS and db go in sentinel.nodeClientOptions: username, password, socket.tls, database)' : '';
      ctx.addIssue({ code: 'custom', path: [socketFields[0] as string], message: `cannot be combined with ${other}${hint}` });
    }
  });

const memoryStoreSchema = z
  .object({
    type: z.literal('memory'),
    maxEntries: integer(1, MAX_MEMORY_ENTRIES, `a positive integer of at most ${MAX_MEMORY_ENTRIES}`).optional(),
    maxBytes: integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer number of bytes').optional(),
  })
  .strict();

const storeSchema = z.unknown().superRefine((value, ctx) => {
  if (!isObject(value)) {
    ctx.addIssue({ code: 'custom', message: `expected { type: 'redis' | 'memory', … } or a Store object, received ${describeReceived(value)}` });
    return;
  }
  const schema = value.type === 'redis' ? redisStoreSchema : value.type === 'memory' ? memoryStoreSchema : undefined;
  if (schema) return nested(schema, value, ctx);
  if (storeObject.safeParse(value).success) return; // your own Store object (any `type` it may carry is its business)
  ctx.addIssue({ code: 'custom', path: ['type'], message: `expected 'redis' or 'memory' (or a Store object with get/set/delete), received ${describeReceived(value.type)}` });
});

const SERIALIZER_NAMES: readonly SerializerName[] = ['json', 'rich', 'msgpack'];

const serializerSchema = z.custom<SerializerName | Serializer>(
  (value) =>
    (typeof value === 'string' && (SERIALIZER_NAMES as readonly string[]).includes(value)) ||
    (isObject(value) &&
      isFunction(value.serialize) &&
      isFunction(value.deserialize) &&
      typeof value.name === 'string' &&
      /^[a-z][a-z0-9-]{0,31}$/.test(value.name)),
  {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `expected ${SERIALIZER_NAMES.map((name) => `'${name}'`).join(', ')} or a Serializer object, received an unknown name`
        : 'expected { name, serialize, deserialize } with a name matching [a-z][a-z0-9-]*',
  },
);

const loggerSchema = z.custom<Logger>((value) => isObject(value) && isFunction(value.warn) && isFunction(value.error), {
  error: 'expected a logger with warn() and error() methods (pino, console, …)',
});

const breakerObjectSchema = z
  .object({
    threshold: integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer').optional(),
    cooldown: timerDuration(1).optional(),
  })
  .strict();

/** `clearPollInterval`: a timer duration of at least 10 ms (a shorter one would mostly poll). */
const pollInterval = timerDuration(1).superRefine((value, ctx) => {
  const ms = toMs(value);
  if (ms !== undefined && ms >= 1 && ms < 10) ctx.addIssue({ code: 'custom', message: `must be at least 10 ms, got ${ms} ms` });
});

const l1Schema = z
  .object({
    maxEntries: integer(1, MAX_MEMORY_ENTRIES, `a positive integer of at most ${MAX_MEMORY_ENTRIES}`),
    maxBytes: integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer').optional(),
    ttl: timerDuration(1).optional(),
    values: z.enum(['shared', 'frozen', 'copied'], { error: (issue) => `expected 'shared', 'frozen' or 'copied', received ${describeReceived(issue.input)}` }).optional(),
  })
  .strict();

const compressionSchema = z
  .object(
    {
      threshold: integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer number of bytes'),
      algorithm: z
        .enum(['brotli', 'deflate', 'zstd'], { error: (issue) => `expected 'deflate', 'brotli' or 'zstd', received ${describeReceived(issue.input)}` })
        .refine(hasAlgorithm, { error: 'zstd needs a Node whose node:zlib has it (22.15+, 23.8+); this one has not: use deflate or brotli' })
        .optional(),
    },
    { error: (issue) => `expected { threshold, algorithm? }, received ${describeReceived(issue.input)}` },
  )
  .strict();

/** Schema of {@link CacheConfig}. */
export const cacheConfigSchema = z
  .object({
    store: storeSchema.optional(),
    namespace: nonEmpty('a string').optional(),
    serializer: serializerSchema.optional(),
    compression: z.unknown().superRefine((value, ctx) => nested(compressionSchema, value, ctx)).optional(),
    logger: loggerSchema.optional(),
    clock: z.custom<Clock>((value) => isObject(value) && isFunction(value.now), { error: 'expected { now(): number }' }).optional(),
    breaker: booleanOr(breakerObjectSchema, '{ threshold?, cooldown? } or a boolean').optional(),
    clearPollInterval: pollInterval.optional(),
    l1: z.unknown().superRefine((value, ctx) => nested(l1Schema, value, ctx)).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.l1 === undefined) return;
    const store = config.store as { type?: unknown; watchKeys?: unknown; getWithExpiry?: unknown } | undefined;
    const watchable = store !== undefined && (store.type === 'redis' || (store.type !== 'memory' && isFunction(store.watchKeys) && isFunction(store.getWithExpiry)));
    if (!watchable) ctx.addIssue({ code: 'custom', path: ['l1'], message: "needs a Redis store (store: { type: 'redis', ... }): the tier is kept coherent by Redis client tracking" });
  });

// Keep the hand-written type and the schema in step (a compile-time check; nothing runs).
agree<SameKeys<CacheConfig, z.input<typeof cacheConfigSchema>>>(true);
