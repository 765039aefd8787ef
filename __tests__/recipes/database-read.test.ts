/**
 * examples/recipes/database-read.mjs: a cached read from SQLite (sql.js), dropped by tag after an
 * UPDATE; with Redis, the in-process tier answers the third read. The recipe prints how each read
 * was answered and how many queries reached the database so far.
 */
import { describe, expect, it } from '@jest/globals';
import { builtWith } from '../helpers/build.js';
import { runRecipe } from '../helpers/recipe.js';
import { startRedis } from '../helpers/redis-server.js';

const RECIPE = 'database-read.mjs';
const UPDATE = "UPDATE users SET email = 'ada@lovelace.dev' WHERE id = 1; invalidateTags(['user:1'])";

describe('recipe: a cached database read', () => {
  const redis = builtWith(startRedis);

  it('queries the database once for repeated reads and again after the update, on Redis with l1', async () => {
    const run = await runRecipe(RECIPE, { REDIS_URL: redis().url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'store: redis, with the in-process tier (l1)',
      'getUser(1) → ada@example.com  miss from origin  queries: 1',
      // A copy is held once Redis's announcement of the miss's write has come in on the tier's own
      // connection, which may be after the first hit or two: which of those came from Redis varies.
      expect.stringMatching(/^getUser\(1\) → ada@example\.com {2}hit from (store|l1) {2}queries: 1$/),
      expect.stringMatching(/^getUser\(1\) → ada@example\.com {2}hit from (store|l1) {2}queries: 1$/),
      expect.stringMatching(/^getUser\(1\) → ada@example\.com {2}hit from (store|l1) {2}queries: 1$/),
      'getUser(1) → ada@example.com  hit from l1  queries: 1',
      UPDATE,
      'getUser(1) → ada@lovelace.dev  miss from origin  queries: 2',
      'getUser(1) → ada@lovelace.dev  hit from store  queries: 2',
      'getUser(3) → null  miss from origin  queries: 3',
      'getUser(3) → null  hit from store  queries: 3',
      expect.stringMatching(/^stats: hits 6 \(l1 [1-4]\), misses 3; database queries 3$/),
    ]);
    // What the recipe left in Redis: the row read after the update, under a key a reader can find.
    expect(await redis().admin.get('recipes-db:getUser:1')).toContain('"email":"ada@lovelace.dev"');
  }, 60_000);

  it('does the same on the memory store when REDIS_URL is unset (no l1)', async () => {
    const run = await runRecipe(RECIPE);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'store: memory',
      'getUser(1) → ada@example.com  miss from origin  queries: 1',
      ...Array<string>(4).fill('getUser(1) → ada@example.com  hit from store  queries: 1'),
      UPDATE,
      'getUser(1) → ada@lovelace.dev  miss from origin  queries: 2',
      'getUser(1) → ada@lovelace.dev  hit from store  queries: 2',
      'getUser(3) → null  miss from origin  queries: 3',
      'getUser(3) → null  hit from store  queries: 3',
      'stats: hits 6 (l1 0), misses 3; database queries 3',
    ]);
  }, 60_000);
});
