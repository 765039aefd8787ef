/**
 * Type tests of `f.many()` and the `batch` option: checked by `tsc --noEmit -p .`, with runtime
 * assertions so jest runs the file too. Misuse is kept in functions never called.
 */
import { describe, expect, it } from '@jest/globals';
import { expectTypeOf } from 'expect-type';
import { cached, createCache } from '../../lib/index.js';

interface Product {
  id: number;
  region: string;
}

const cache = createCache({ store: { type: 'memory' } });
const getProduct = async (id: number, region?: string): Promise<Product> => ({ id, region: region ?? 'us' });

describe('many()', () => {
  it('takes argument tuples of the function and resolves to an array of its results', async () => {
    const f = cached(getProduct, { cache, name: 'manyTypes' });
    expectTypeOf(f.many).parameter(0).toEqualTypeOf<ReadonlyArray<[id: number, region?: string]>>();
    expectTypeOf(f.many([[1], [2, 'eu']])).toEqualTypeOf<Promise<Product[]>>();
    expect(await f.many([[1], [2, 'eu']], { ttl: '1m' })).toEqual([
      { id: 1, region: 'us' },
      { id: 2, region: 'eu' },
    ]);
  });

  it('refuses argument lists the function does not take', () => {
    const f = cached(getProduct, { cache, name: 'manyMisuse' });
    const misuse = (): void => {
      // @ts-expect-error a bare argument, not a tuple
      void f.many([1, 2]);
      // @ts-expect-error a string id
      void f.many([['1']]);
      // @ts-expect-error an unknown call option
      void f.many([[1]], { ttll: 5 });
    };
    expect(typeof misuse).toBe('function');
  });
});

describe('the batch option', () => {
  it('is typed from the function: argument tuples in, results out, sync or async', async () => {
    const f = cached(getProduct, {
      cache,
      name: 'batchTypes',
      batch: async (argsList) => {
        expectTypeOf(argsList).toEqualTypeOf<Array<[id: number, region?: string]>>();
        return argsList.map(([id, region]) => ({ id, region: region ?? 'batch' }));
      },
    });
    const g = cached(getProduct, { cache, name: 'batchSync', batch: (argsList) => argsList.map(([id]) => ({ id, region: 'sync' })) });
    expect(await f.many([[1]])).toEqual([{ id: 1, region: 'batch' }]);
    expect(await g.many([[1]])).toEqual([{ id: 1, region: 'sync' }]);
    const misuse = (): void => {
      // @ts-expect-error results of another type
      cached(getProduct, { cache, name: 'batchWrong', batch: async (argsList) => argsList.map(() => 'x') });
    };
    expect(typeof misuse).toBe('function');
  });
});
