import { describe, expect, it } from '@jest/globals';
import { runInNewContext } from 'node:vm';
import * as api from '../lib/index.js';
import * as errors from '../lib/errors.js';
import {
  CacheBatchError,
  CacheConfigError,
  CacheError,
  CacheKeyError,
  CacheOriginTimeoutError,
  CacheSerializationError,
  CacheStoreError,
  CachePartialReadError,
  CacheSchemaError,
  CacheTimeoutError,
  CacheUnavailableError,
  isCacheError,
} from '../lib/errors.js';

const all = [
  ['CacheError', new CacheError('m'), 'CACHE_ERR'],
  ['CacheConfigError', new CacheConfigError('m', 'ttl'), 'CACHE_ERR_CONFIG'],
  ['CacheKeyError', new CacheKeyError('m'), 'CACHE_ERR_KEY'],
  ['CacheStoreError', new CacheStoreError('m', 'redis'), 'CACHE_ERR_STORE'],
  ['CacheTimeoutError', new CacheTimeoutError('m', 'redis'), 'CACHE_ERR_TIMEOUT'],
  ['CachePartialReadError', new CachePartialReadError('m', 'redis', [], 0), 'CACHE_ERR_PARTIAL_READ'],
  ['CacheSerializationError', new CacheSerializationError('m'), 'CACHE_ERR_SERIALIZATION'],
  ['CacheUnavailableError', new CacheUnavailableError('m', 'redis'), 'CACHE_ERR_UNAVAILABLE'],
  ['CacheBatchError', new CacheBatchError('m', 'getUsers'), 'CACHE_ERR_BATCH'],
  ['CacheSchemaError', new CacheSchemaError('m', 'getUser', ['id']), 'CACHE_ERR_SCHEMA'],
] as const;

/** Every error class errors.ts exports, by name. */
const exportedClasses = Object.entries(errors).filter(
  ([, value]) => typeof value === 'function' && (value === CacheError || value.prototype instanceof CacheError),
);

describe('error hierarchy', () => {
  it.each(all)('%s is an Error and a CacheError with its own name and code', (name, error, code) => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(CacheError);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.message).toBe('m');
    expect(String(error)).toBe(`${name}: m`);
  });

  it('makes a timeout a store error', () => {
    const error = new CacheTimeoutError('slow', 'redis');
    expect(error).toBeInstanceOf(CacheStoreError);
    expect(error.store).toBe('redis');
  });

  it('keeps an origin timeout out of the store errors: it reaches callers', () => {
    const error = new CacheOriginTimeoutError('getUser', 250);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).not.toBeInstanceOf(CacheStoreError);
    expect(error).not.toBeInstanceOf(CacheTimeoutError);
    expect({ name: error.name, code: error.code, fn: error.fn, timeoutMs: error.timeoutMs, message: error.message }).toEqual({
      name: 'CacheOriginTimeoutError',
      code: 'CACHE_ERR_ORIGIN_TIMEOUT',
      fn: 'getUser',
      timeoutMs: 250,
      message: 'cachette: getUser did not answer within 250 ms',
    });
  });

  it('makes an unavailable store a store error', () => {
    expect(new CacheUnavailableError('open', 'redis')).toBeInstanceOf(CacheStoreError);
  });

  it('keeps the sibling classes apart', () => {
    expect(new CacheKeyError('m')).not.toBeInstanceOf(CacheConfigError);
    expect(new CacheConfigError('m', 'f')).not.toBeInstanceOf(CacheKeyError);
    expect(new CacheStoreError('m', 's')).not.toBeInstanceOf(CacheTimeoutError);
    expect(new CacheSerializationError('m')).not.toBeInstanceOf(CacheStoreError);
  });

  it('gives every code once', () => {
    expect(new Set(all.map(([, , code]) => code)).size).toBe(all.length);
  });

  it('carries the field path and issues of a config error', () => {
    const issues = [
      { path: 'store.port', message: 'too big' },
      { path: 'ttl', message: 'negative' },
    ];
    const error = new CacheConfigError('cachette: store.port: too big', 'store.port', issues);
    expect(error.field).toBe('store.port');
    expect(error.issues).toEqual(issues);
    expect(new CacheConfigError('m', '').issues).toEqual([]);
  });

  it('keeps the cause of a store error', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new CacheStoreError('down', 'redis', { cause }).cause).toBe(cause);
    expect(new CacheError('m', { cause }).cause).toBe(cause);
  });

  it('exports every error class and isCacheError from the package entry', () => {
    expect(api.CacheError).toBe(CacheError);
    expect(api.CacheConfigError).toBe(CacheConfigError);
    expect(api.CacheKeyError).toBe(CacheKeyError);
    expect(api.CacheStoreError).toBe(CacheStoreError);
    expect(api.CacheTimeoutError).toBe(CacheTimeoutError);
    expect(api.CacheSerializationError).toBe(CacheSerializationError);
    expect(api.CacheUnavailableError).toBe(CacheUnavailableError);
    expect(api.CacheOriginTimeoutError).toBe(CacheOriginTimeoutError);
    expect(api.CacheBatchError).toBe(CacheBatchError);
    expect(api.CacheSchemaError).toBe(CacheSchemaError);
    expect(api.isCacheError).toBe(isCacheError);
  });
});

describe('isCacheError', () => {
  it.each(all)('recognises a %s', (_name, error, code) => {
    expect(isCacheError(error)).toBe(true);
    expect(error.code).toBe(code);
  });

  it('recognises an origin timeout', () => {
    expect(isCacheError(new CacheOriginTimeoutError('f', 1))).toBe(true);
  });

  it.each(exportedClasses.map(([name]) => name))('recognises every exported class, across realms too: %s', (name) => {
    expect(exportedClasses.length).toBe(11);
    const Class = (errors as unknown as Record<string, new (...args: unknown[]) => Error>)[name]!;
    const own = new Class('m', 'redis');
    expect(isCacheError(own)).toBe(true);
    // An Error made in another realm (a vm context: its Error is not this realm's), named like ours.
    const foreign: unknown = runInNewContext(`const e = new Error('from another copy'); e.name = ${JSON.stringify(own.name)}; e`);
    expect(foreign instanceof Error).toBe(false);
    expect(isCacheError(foreign)).toBe(true);
  });

  it('recognises cachette errors from another realm by name', () => {
    const foreign = new Error('from another copy of cachette');
    foreign.name = 'CacheTimeoutError';
    expect(isCacheError(foreign)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a plain Error', new Error('x')],
    ['a TypeError', new TypeError('x')],
    ['an Error with some other name', Object.assign(new Error('x'), { name: 'RedisError' })],
    ['an object that only looks like one', { name: 'CacheError', message: 'x', code: 'CACHE_ERR' }],
    ['a string', 'CacheError'],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s', (_what, value) => {
    expect(isCacheError(value)).toBe(false);
  });
});
