/**
 * cachette: put a cache in front of any async function.
 *
 * Each public name is listed once. Internal modules (engine, flight, entry framing, key encoding
 * helpers, deadlines) are not exported: their shapes may change in any release.
 * @packageDocumentation
 */
export { cached, isCallOptions, type CachedFunction, type CallArgs, type EarlyOptions } from './cached.js';
export { Cache, createCache } from './cache.js';
export type { Clock } from './clock.js';
export { originSignal } from './flight.js';
export type { Duration, DurationUnit } from './duration.js';
export {
  CacheConfigError,
  CacheError,
  CacheKeyError,
  CacheOriginTimeoutError,
  CacheSerializationError,
  CacheStoreError,
  CacheTimeoutError,
  CacheUnavailableError,
  isCacheError,
  type ConfigIssue,
} from './errors.js';
export { MAX_KEY_LENGTH } from './keys.js';
export type { FailureFields, FailureKind, Logger } from './log.js';
export type {
  AnyFunction,
  BreakerConfig,
  CacheConfig,
  CachedOptions,
  CallOptions,
  LockOptions,
  MemoryStoreConfig,
  RedisClientConfig,
  RedisCommonConfig,
  RedisSocketConfig,
  RedisUrlConfig,
  ResultOf,
  StoreConfig,
  TimeoutOption,
  TtlOption,
} from './options.js';
export { jsonSerializer } from './serializers/json.js';
export type { Serializer } from './serializers/serializer.js';
export type { CacheStats } from './stats.js';
export {
  DEFAULT_BREAKER_COOLDOWN_MS,
  DEFAULT_BREAKER_THRESHOLD,
  type BreakerOptions,
  type BreakerState,
  type StoreHealth,
} from './stores/breaker.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export { DEFAULT_OP_TIMEOUT_MS, RedisStore, type RedisClientLike, type RedisConnection, type RedisSocketOptions, type RedisStoreOptions } from './stores/redis.js';
export type { MaybePromise, Store } from './stores/store.js';
