import { describe, expect, it } from '@jest/globals';
import * as api from '../lib/index.js';
import {
  CacheConfigError,
  CacheError,
  CacheKeyError,
  CacheSerializationError,
  CacheStoreError,
  CacheTimeoutError,
  isCacheError,
} from '../lib/errors.js';

const all = [
  ['CacheError', new CacheError('m'), 'CACHE_ERR'],
  ['CacheConfigError', new CacheConfigError('m', 'ttl'), 'CACHE_ERR_CONFIG'],
  ['CacheKeyError', new CacheKeyError('m'), 'CACHE_ERR_KEY'],
  ['CacheStoreError', new CacheStoreError('m', 'redis'), 'CACHE_ERR_STORE'],
  ['CacheTimeoutError', new CacheTimeoutError('m', 'redis'), 'CACHE_ERR_TIMEOUT'],
  ['CacheSerializationError', new CacheSerializationError('m'), 'CACHE_ERR_SERIALIZATION'],
] as const;

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
    expect(api.isCacheError).toBe(isCacheError);
  });
});

describe('isCacheError', () => {
  it.each(all)('recognises a %s', (_name, error, code) => {
    expect(isCacheError(error)).toBe(true);
    expect(error.code).toBe(code);
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
