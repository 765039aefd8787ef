/**
 * Type tests of the `schema` and `migrate` options: checked by `tsc --noEmit -p .`, with runtime
 * assertions so jest runs the file too. Misuse is kept in functions never called.
 */
import { describe, expect, it } from '@jest/globals';
import { expectTypeOf } from 'expect-type';
import { z } from 'zod';
import { cached, createCache, type StandardSchema } from '../../lib/index.js';

const cache = createCache({ store: { type: 'memory' }, logger: { warn() {}, error() {} } });
const load = async (id: number) => ({ id, at: '2024-01-15T10:30:00.000Z' });
const Row = z.object({ id: z.number(), at: z.string().transform((text) => new Date(text)) });

describe('schema types', () => {
  it("makes the cached function resolve to the schema's output type", async () => {
    const f = cached(load, { cache, name: 'typedRow', schema: Row });
    expectTypeOf(f(1)).toEqualTypeOf<Promise<{ id: number; at: Date }>>();
    expectTypeOf(f.callWith({}, 1)).toEqualTypeOf<Promise<{ id: number; at: Date }>>();
    expectTypeOf(f.refresh(1)).toEqualTypeOf<Promise<{ id: number; at: Date }>>();
    expectTypeOf(f.many([[1]])).toEqualTypeOf<Promise<Array<{ id: number; at: Date }>>>();
    expect((await f(1)).at).toBeInstanceOf(Date);
  });

  it('leaves the result type of a function without a schema unchanged', () => {
    const f = cached(load, { cache, name: 'untypedRow' });
    expectTypeOf(f(1)).toEqualTypeOf<Promise<{ id: number; at: string }>>();
  });

  it('accepts any Standard Schema, and types migrate by the schema input', () => {
    const own: StandardSchema<number, string> = { '~standard': { version: 1, vendor: 'own', validate: (value) => (typeof value === 'number' ? { value: String(value) } : { issues: [{ message: 'not a number' }] }) } };
    const f = cached(async () => 1, { cache, name: 'ownSchema', schema: own, migrate: (old) => Number(old) });
    expectTypeOf(f()).toEqualTypeOf<Promise<string>>();
    const g = cached(load, { cache, name: 'migratedRow', schema: Row, migrate: (old, info) => ({ id: Number((old as { key: string }).key), at: new Date(info.createdAt).toISOString() }) });
    expectTypeOf(g(1)).toEqualTypeOf<Promise<{ id: number; at: Date }>>();
  });

  it('refuses a migrate that returns another shape than the schema takes, and a schema that is not one', () => {
    const misuse = (): void => {
      // @ts-expect-error id must be a number
      cached(load, { cache, name: 'badMigrate', schema: Row, migrate: () => ({ id: 'x', at: 'y' }) });
      // @ts-expect-error not a Standard Schema
      cached(load, { cache, name: 'badSchema', schema: { validate: () => true } });
    };
    expect(typeof misuse).toBe('function');
  });
});
