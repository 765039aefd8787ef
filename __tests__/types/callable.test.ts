/**
 * Type tests of the cached callable: checked by `tsc --noEmit -p .` (`expectTypeOf` and
 * `// @ts-expect-error` lines), with a few runtime assertions so jest runs the file too.
 * `expectTypeOf(...)` does nothing at run time; misuse that would run is kept in functions never called.
 */
import { describe, expect, it } from '@jest/globals';
import { expectTypeOf } from 'expect-type';
import { cached, createCache, type CachedFunction, type CacheStats, type CallArgs, type CallMeta, type CallOptions, type OwnOptionNames, type ResultOf } from '../../lib/index.js';

interface Product {
  id: number;
  region: string;
}

const cache = createCache({ store: { type: 'memory' } });
const getProduct = async (id: number, region?: string): Promise<Product> => ({ id, region: region ?? 'us' });
const f = cached(getProduct, { cache, name: 'getProduct' });

describe('the return type', () => {
  it('is Promise<Awaited<ReturnType<F>>>', async () => {
    expectTypeOf(f).returns.toEqualTypeOf<Promise<Product>>();
    expectTypeOf(f(1)).toEqualTypeOf<Promise<Product>>();
    expectTypeOf(f).toEqualTypeOf<CachedFunction<typeof getProduct>>();
    expect(await f(1)).toEqual({ id: 1, region: 'us' });
  });

  it('wraps a synchronous result in a promise', async () => {
    const add = cached((a: number, b: number) => a + b, { cache, name: 'add' });
    expectTypeOf(add).returns.toEqualTypeOf<Promise<number>>();
    expect(await add(1, 2)).toBe(3);
  });

  it('unwraps nested and promise-like results', () => {
    expectTypeOf<ResultOf<() => Promise<Promise<string>>>>().toEqualTypeOf<string>();
    expectTypeOf<ResultOf<() => PromiseLike<boolean>>>().toEqualTypeOf<boolean>();
    expectTypeOf<ReturnType<CachedFunction<() => PromiseLike<null>>>>().toEqualTypeOf<Promise<null>>();
    expectTypeOf<ReturnType<CachedFunction<() => undefined>>>().toEqualTypeOf<Promise<undefined>>();
    expect(typeof f).toBe('function');
  });
});

describe('call signatures', () => {
  it('accepts the arguments alone, or followed by call options, or options early for optional parameters', async () => {
    expectTypeOf(f).toBeCallableWith(1);
    expectTypeOf(f).toBeCallableWith(1, 'eu');
    expectTypeOf(f).toBeCallableWith(1, { bypassCache: true });
    expectTypeOf(f).toBeCallableWith(1, 'eu', { ttl: '5m' });
    expectTypeOf(f).toBeCallableWith(1, undefined, { ttl: 5000, forceRefresh: true });
    expect(await f(1, 'eu')).toEqual({ id: 1, region: 'eu' });
    expect(await f(1, { bypassCache: true })).toEqual({ id: 1, region: 'us' });
    expect(await f(1, 'eu', { ttl: '5m' })).toEqual({ id: 1, region: 'eu' });
  });

  it('rejects wrong argument types, misspelled options, bad durations and misplaced options', () => {
    // @ts-expect-error the id is a number
    expectTypeOf(f).toBeCallableWith('1');
    // @ts-expect-error the region is a string
    expectTypeOf(f).toBeCallableWith(1, 2);
    // @ts-expect-error the id is required
    expectTypeOf(f).toBeCallableWith();
    // @ts-expect-error a misspelled option
    expectTypeOf(f).toBeCallableWith(1, { bypasCache: true });
    // @ts-expect-error a misspelled option after every argument
    expectTypeOf(f).toBeCallableWith(1, 'eu', { forceRefesh: true });
    // @ts-expect-error an option of the wrong type
    expectTypeOf(f).toBeCallableWith(1, 'eu', { bypassCache: 'yes' });
    // @ts-expect-error '5x' is not a duration
    expectTypeOf(f).toBeCallableWith(1, 'eu', { ttl: '5x' });
    // @ts-expect-error options do not come before an argument
    expectTypeOf(f).toBeCallableWith(1, { ttl: '5m' }, 'eu');
    // @ts-expect-error one argument too many
    expectTypeOf(f).toBeCallableWith(1, 'eu', 'extra');
    expect(f.keyFor(1)).toBe('getProduct:1');
  });

  it('allows options early only where the remaining parameters are optional', () => {
    const g = cached(async (a: number, b: string, c?: boolean) => `${a}${b}${c}`, { cache, name: 'g' });
    expectTypeOf(g).toBeCallableWith(1, 'x', { ttl: 1 });
    expectTypeOf(g).toBeCallableWith(1, 'x', true, { ttl: 1 });
    // @ts-expect-error b is required, so options cannot take its place
    expectTypeOf(g).toBeCallableWith(1, { ttl: 1 });
    expect(g.keyFor(1, 'x')).toBe('g:1:x');
  });

  it('takes options after any number of rest arguments, and alone for a function without parameters', () => {
    const sum = cached(async (...values: number[]) => values.reduce((a, b) => a + b, 0), { cache, name: 'sum' });
    expectTypeOf(sum).toBeCallableWith(1, 2, 3);
    expectTypeOf(sum).toBeCallableWith(1, 2, { cacheRead: false });
    // @ts-expect-error the rest arguments are numbers
    expectTypeOf(sum).toBeCallableWith(1, '2');
    const now = cached(async () => 1, { cache, name: 'now' });
    expectTypeOf(now).toBeCallableWith();
    expectTypeOf(now).toBeCallableWith({ forceRefresh: true });
    // @ts-expect-error no parameters
    expectTypeOf(now).toBeCallableWith(1);
    expect(sum.keyFor(1, 2)).toBe('sum:1:2');
  });

  it('types callWith with the options first and the parameters after', async () => {
    expectTypeOf(f.callWith).toBeCallableWith({ ttl: '5m' }, 1, 'eu');
    expectTypeOf(f.callWith).toBeCallableWith({}, 1);
    expectTypeOf(f.callWith).returns.toEqualTypeOf<Promise<Product>>();
    // @ts-expect-error the id is a number
    expectTypeOf(f.callWith).toBeCallableWith({}, '1');
    // @ts-expect-error a misspelled option
    expectTypeOf(f.callWith).toBeCallableWith({ bypass: true }, 1);
    // @ts-expect-error call options are not an argument of callWith's tail
    expectTypeOf(f.callWith).toBeCallableWith({}, 1, { ttl: 5 });
    expect(await f.callWith({ bypassCache: true }, 2)).toEqual({ id: 2, region: 'us' });
  });

  it('types withMeta with the call arguments and a CallMeta of the result', async () => {
    expectTypeOf(f.withMeta).toBeCallableWith(1, 'eu');
    expectTypeOf(f.withMeta).toBeCallableWith(1, { ttl: '5m' });
    expectTypeOf(f.withMeta).returns.toEqualTypeOf<Promise<CallMeta<Product>>>();
    // @ts-expect-error the id is a number
    expectTypeOf(f.withMeta).toBeCallableWith('1');
    const meta = await f.withMeta(3, { bypassCache: true });
    expectTypeOf(meta.status).toEqualTypeOf<'hit' | 'stale' | 'miss' | 'coalesced' | 'bypass' | 'refresh'>();
    expect(meta).toMatchObject({ value: { id: 3, region: 'us' }, status: 'bypass', tier: 'origin' });
  });
});

describe('a function whose own last parameter declares call-option names', () => {
  interface FetchInit {
    signal?: AbortSignal | null;
    headers?: Record<string, string>;
  }
  const getPage = cached(async (url: string, init?: FetchInit) => `${url}${init?.headers ? '+' : ''}`, { cache, name: 'getPage' });
  const search = cached(async (query: string, opts: { timeout: number; exact: boolean }) => `${query}${opts.timeout}`, { cache, name: 'search' });

  it('takes the parameter only through callWith; a direct call passes the parameters before it', async () => {
    const signal = new AbortController().signal;
    const init: FetchInit = { headers: { accept: 'text/html' } };
    expectTypeOf(getPage).toBeCallableWith('https://example.com');
    expectTypeOf(getPage).toBeCallableWith('https://example.com', { signal, ttl: '1m' });
    expectTypeOf(getPage.callWith).toBeCallableWith({}, 'https://example.com', init);
    expectTypeOf(getPage.callWith).toBeCallableWith({}, 'https://example.com', { signal });
    expectTypeOf(getPage.keyFor).toBeCallableWith('https://example.com', init);
    // @ts-expect-error the function's own init cannot be passed directly
    expectTypeOf(getPage).toBeCallableWith('https://example.com', init);
    // @ts-expect-error nor as an object literal
    expectTypeOf(getPage).toBeCallableWith('https://example.com', { headers: {} });
    expect(await getPage.callWith({}, 'https://example.com', init)).toBe('https://example.com+');
  });

  it('refuses every direct call when that parameter is required, and says to use callWith', async () => {
    expectTypeOf(search.callWith).toBeCallableWith({ ttl: 5 }, 'q', { timeout: 5, exact: true });
    // @ts-expect-error the own options are required and can only go through callWith
    expectTypeOf(search).toBeCallableWith('q', { timeout: 5, exact: true });
    // @ts-expect-error and leaving them out is no call either
    expectTypeOf(search).toBeCallableWith('q');
    expectTypeOf<Parameters<typeof search>>().toEqualTypeOf<
      [callWith: "the last parameter declares the call option 'timeout': call f.callWith(options, ...args)"]
    >();
    expect(await search.callWith({}, 'q', { timeout: 5, exact: true })).toBe('q5');
  });

  it('leaves functions whose last parameter has no option names, is any, or is a rest parameter as they were', () => {
    expectTypeOf<OwnOptionNames<[id: number, region?: string]>>().toEqualTypeOf<never>();
    expectTypeOf<OwnOptionNames<[query: string, opts: { limit: number }]>>().toEqualTypeOf<never>();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expectTypeOf<OwnOptionNames<[query: string, opts: any]>>().toEqualTypeOf<never>();
    expectTypeOf<OwnOptionNames<[...filters: Array<{ ttl: number }>]>>().toEqualTypeOf<never>();
    expectTypeOf<OwnOptionNames<[a: number, b?: { ttl?: number; signal?: AbortSignal }]>>().toEqualTypeOf<'ttl' | 'signal'>();
    const g = cached(async (a: number, b?: string, c?: { ttl?: number }) => `${a}${b}${c?.ttl}`, { cache, name: 'threeParameters' });
    expectTypeOf(g).toBeCallableWith(1, 'x');
    expectTypeOf(g).toBeCallableWith(1, { ttl: 5 });
    expectTypeOf(g).toBeCallableWith(1, 'x', { ttl: 5 });
    expectTypeOf(g.callWith).toBeCallableWith({}, 1, 'x', { ttl: 5 });
    // @ts-expect-error c cannot be passed directly
    expectTypeOf(g).toBeCallableWith(1, 'x', { ttl: 5 }, {});
    expectTypeOf<CallArgs<[id: number]>>().toEqualTypeOf<[id: number] | [id: number, CallOptions]>();
    expect(f.keyFor(1)).toBe('getProduct:1');
  });
});

describe('this', () => {
  it("keeps the wrapped function's this type, and leaves functions without one callable anywhere", async () => {
    interface Counter {
      step: number;
      add(by: number): Promise<number>;
    }
    const add = cached(
      async function add(this: Counter, by: number) {
        return this.step + by;
      },
      { cache, name: 'counterAdd' },
    );
    expectTypeOf(add).thisParameter.toEqualTypeOf<Counter>();
    const counter: Counter = { step: 10, add };
    expect(await counter.add(1)).toBe(11);
    const neverCalled = (): void => {
      // @ts-expect-error an unbound call has no Counter as this
      void add(1);
    };
    expect(typeof neverCalled).toBe('function');
    expectTypeOf(f).thisParameter.toEqualTypeOf<unknown>();
  });
});

describe('methods and properties', () => {
  it('types invalidate, refresh and keyFor with the parameters of the function', async () => {
    expectTypeOf(f.invalidate).parameters.toEqualTypeOf<[id: number, region?: string]>();
    expectTypeOf(f.invalidate).returns.toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(f.refresh).parameters.toEqualTypeOf<[id: number, region?: string]>();
    expectTypeOf(f.refresh).returns.toEqualTypeOf<Promise<Product>>();
    expectTypeOf(f.keyFor).parameters.toEqualTypeOf<[id: number, region?: string]>();
    expectTypeOf(f.keyFor).returns.toEqualTypeOf<string>();
    // @ts-expect-error the id is a number
    expectTypeOf(f.invalidate).toBeCallableWith('1');
    // @ts-expect-error keyFor takes no call options
    expectTypeOf(f.keyFor).toBeCallableWith(1, { bypassCache: true });
    // @ts-expect-error refresh takes the function's arguments
    expectTypeOf(f.refresh).toBeCallableWith();
    expect(await f.invalidate(1)).toBe(true);
  });

  it('exposes stats read-only and the original function with its own type', () => {
    expectTypeOf(f.stats).toEqualTypeOf<Readonly<CacheStats>>();
    expectTypeOf(f.original).toEqualTypeOf<typeof getProduct>();
    const neverCalled = (): void => {
      // @ts-expect-error stats are read-only
      f.stats.hits = 0;
      // @ts-expect-error original cannot be replaced
      f.original = getProduct;
    };
    expect(typeof neverCalled).toBe('function');
    expect(f.original).toBe(getProduct);
  });

  it('types call options as exactly the documented names', () => {
    expectTypeOf<keyof CallOptions>().toEqualTypeOf<
      'bypassCache' | 'forceRefresh' | 'ttl' | 'cacheRead' | 'cacheWrite' | 'waitForWrite' | 'timeout' | 'signal'
    >();
    // @ts-expect-error not a call option
    const wrong: CallOptions = { bypass: true };
    expect(wrong).toEqual({ bypass: true });
  });
});
