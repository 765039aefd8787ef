/**
 * Type tests of tags and clearing: checked by `tsc --noEmit -p .` (`expectTypeOf` and
 * `// @ts-expect-error` lines), with runtime assertions so jest runs the file too. Misuse that would
 * run is kept in functions never called.
 */
import { describe, expect, it } from '@jest/globals';
import { expectTypeOf } from 'expect-type';
import { cached, createCache, type InvalidateOptions } from '../../lib/index.js';

const cache = createCache({ store: { type: 'memory' }, namespace: 'types' });
const load = async (id: number, region: string): Promise<{ id: number; region: string }> => ({ id, region });

describe('the tags option', () => {
  it('types a tags function from the wrapped function’s parameters', async () => {
    const f = cached(load, {
      cache,
      name: 'tagged',
      tags: (id, region) => {
        expectTypeOf(id).toEqualTypeOf<number>();
        expectTypeOf(region).toEqualTypeOf<string>();
        return [`product:${id}`, `region:${region}`];
      },
    });
    expect(await f(1, 'eu')).toEqual({ id: 1, region: 'eu' });
  });

  it('takes a fixed list, readonly included', () => {
    const fixed = ['catalog'] as const;
    expect(typeof cached(load, { cache, name: 'fixed', tags: fixed })).toBe('function');
  });

  it('refuses tags that are not strings, and a function of other parameters', () => {
    function misuse(): void {
      // @ts-expect-error tags are strings
      cached(load, { cache, name: 'a', tags: [1] });
      // @ts-expect-error the first parameter is a number
      cached(load, { cache, name: 'b', tags: (id: string) => [id] });
      // @ts-expect-error a tags function returns a list
      cached(load, { cache, name: 'c', tags: () => 'catalog' });
    }
    expect(typeof misuse).toBe('function');
  });
});

describe('invalidateTags and clear', () => {
  it('resolve to void and take { stale }', async () => {
    const f = cached(load, { cache, name: 'cleared' });
    expectTypeOf(cache.invalidateTags).parameters.toEqualTypeOf<[tags: readonly string[], options?: InvalidateOptions]>();
    expectTypeOf(cache.invalidateTags(['a'])).toEqualTypeOf<Promise<void>>();
    expectTypeOf(cache.clear({ stale: true })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(f.clear()).toEqualTypeOf<Promise<void>>();
    await expect(f.clear({ stale: true })).resolves.toBeUndefined();
    function misuse(): void {
      // @ts-expect-error tags are a list
      void cache.invalidateTags('a');
      // @ts-expect-error stale is a boolean
      void cache.clear({ stale: 'yes' });
    }
    expect(typeof misuse).toBe('function');
  });
});
