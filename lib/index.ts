/**
 * cachette: put a cache in front of any async function.
 *
 * Each public name is listed once. Internal modules (engine, flight, entry framing, key encoding
 * helpers, deadlines) are not exported: their shapes may change in any release.
 * @module cachette
 */
export { cached, isCallOptions, type CachedFunction, type CallArgs, type EarlyOptions, type OwnOptionNames, type ResultWith, type WithoutLast } from './cached.js';
export { Cache, createCache, type CacheHealth, type InvalidateOptions } from './cache.js';
export { cacheStatus } from './cache-status.js';
export {
  BREAKER_CHANNEL,
  CALL_CHANNEL,
  INVALIDATE_CHANNEL,
  L1_CHANNEL,
  type BreakerEvent,
  type CallEvent,
  type CallMeta,
  type CallStatus,
  type CallTier,
  type InvalidateEvent,
  type L1Event,
} from './observe.js';
export type { Clock } from './clock.js';
export { originSignal } from './flight.js';
export type { Duration, DurationUnit } from './duration.js';
export {
  CacheBatchError,
  CacheConfigError,
  CacheError,
  CacheKeyError,
  CacheOriginTimeoutError,
  CachePartialReadError,
  CacheSchemaError,
  CacheSerializationError,
  CacheStoreError,
  CacheTimeoutError,
  CacheUnavailableError,
  isCacheError,
  type ConfigIssue,
} from './errors.js';
export { MAX_KEY_DEPTH, MAX_KEY_LENGTH } from './keys.js';
export type { FailureFields, FailureKind, Logger } from './log.js';
export type {
  BreakerConfig,
  CacheConfig,
  CompressionConfig,
  L1Config,
  MemoryStoreConfig,
  RedisClientConfig,
  RedisClusterConfig,
  RedisCommonConfig,
  RedisSentinelConfig,
  RedisSocketConfig,
  RedisUrlConfig,
  SerializerName,
  StoreConfig,
} from './config/cache-config.js';
export type { AnyFunction, CachedOptions, LockOptions, ResultOf, TtlOption } from './config/cached-options.js';
export type { CallOptions, TimeoutOption } from './config/call-options.js';
export {
  DEFAULT_BREAKER_COOLDOWN_MS,
  DEFAULT_BREAKER_THRESHOLD,
  DEFAULT_LOCK,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_OP_TIMEOUT_MS,
  MAX_TIMER_MS,
  MAX_TTL_MS,
} from './defaults.js';
export type { Migrate, MigrateInfo, SchemaInput, SchemaOutput, StandardIssue, StandardResult, StandardSchema, StandardSchemaProps } from './schema.js';
export { jsonSerializer } from './serializers/json.js';
export { msgpackSerializer } from './serializers/msgpack.js';
export { richSerializer } from './serializers/rich.js';
export type { CompressionAlgorithm } from './serializers/compression.js';
export type { Serializer } from './serializers/serializer.js';
export type { CacheStats } from './stats.js';
export type { BreakerOptions, BreakerState, ConnectionState, StoreHealth } from './stores/breaker.js';
export { MemoryStore, type MemoryPayload, type MemoryStoreOptions } from './stores/memory.js';
export type { RedisClientLike, RedisConnection, RedisSentinelOptions, RedisSocketOptions } from './stores/redis-client.js';
export type { RedisClusterDefaults, RedisClusterLike, RedisClusterOptions } from './stores/redis-cluster.js';
export { RedisStore, type RedisRecovery, type RedisStoreOptions } from './stores/redis.js';
export type { KeyWatch, KeyWatchListener, KeyWatchState, MaybePromise, Store } from './stores/store.js';
export type { TierHealth, TierState, TierValues } from './tier.js';
