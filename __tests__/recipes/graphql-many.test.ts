/**
 * examples/recipes/graphql-many.mjs: graphql-js resolves an order's items through one
 * `getProduct.many()` call. Counted here: the queries that reached the recipe's "database" (from its
 * output) and the reads of entries Redis received (from MONITOR, on a connection of the test's own).
 */
import { describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { builtWith } from '../helpers/build.js';
import { runRecipe } from '../helpers/recipe.js';
import { startRedis, waitUntil } from '../helpers/redis-server.js';

const RECIPE = 'graphql-many.mjs';
const ENTRY = /^recipes-graphql:getProduct:\d+$/;
const items = [
  { id: 1, name: 'Pen', price: 1.5 },
  { id: 2, name: 'Notebook', price: 4 },
  { id: 3, name: 'Ruler', price: 2 },
  { id: 4, name: 'Eraser', price: 0.5 },
];

/** What the recipe prints, whatever the store (after its first line). */
const walkthrough = [
  'query { product(id: 2) { name } }',
  '  db: SELECT * FROM products WHERE id = 2',
  `  → ${JSON.stringify({ product: { name: 'Notebook' } })}`,
  'query { order(id: 100) { items { id name } } }',
  '  db: SELECT * FROM products WHERE id IN (1, 3, 4)',
  `  → ${JSON.stringify({ order: { items: items.map(({ id, name }) => ({ id, name })) } })}`,
  'query { order(id: 100) { items { id name price } } }',
  '  (no database query)',
  `  → ${JSON.stringify({ order: { items } })}`,
  'getProduct: hits 5, misses 4; database queries 2',
];

/** The command and arguments of one MONITOR line (`<time> [<db> <addr>] "CMD" "arg" …`). */
function parseMonitorLine(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!);
}

describe('recipe: a GraphQL list field through many()', () => {
  const redis = builtWith(startRedis);

  it('reads the 4 items of the list in one MGET and sends only the 3 misses to the database in one query', async () => {
    const monitor = createClient({ url: redis().url });
    await monitor.connect();
    const reads: string[][] = [];
    try {
      await monitor.monitor((line) => {
        const [command, ...keys] = parseMonitorLine(line);
        if ((command === 'GET' || command === 'MGET') && keys.every((key) => ENTRY.test(key))) reads.push([command, ...keys]);
      });
      const run = await runRecipe(RECIPE, { REDIS_URL: redis().url });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.lines).toEqual(['store: redis', ...walkthrough]);

      // MONITOR lines travel on their own connection: wait until the last read has come in.
      await waitUntil(() => reads.length >= 3);
      const all = [1, 2, 3, 4].map((id) => `recipes-graphql:getProduct:${id}`);
      expect(reads).toEqual([
        ['GET', 'recipes-graphql:getProduct:2'], // the single call
        ['MGET', ...all], // the list field, first time: one read for the 4 items
        ['MGET', ...all], // and again: all hits
      ]);
    } finally {
      monitor.destroy();
    }
  }, 60_000);

  it('does the same on the memory store when REDIS_URL is unset', async () => {
    const run = await runRecipe(RECIPE);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual(['store: memory', ...walkthrough]);
  }, 60_000);
});
