/**
 * examples/recipes/http-cache-status.mjs: real HTTP requests to the recipe's server, and the
 * Cache-Status, Age and ETag headers it answers with for a miss, a hit and a forced refresh.
 */
import { describe, expect, it } from '@jest/globals';
import { builtWith } from '../helpers/build.js';
import { startRecipeServer, type RecipeRun } from '../helpers/recipe.js';
import { startRedis } from '../helpers/redis-server.js';

const RECIPE = 'http-cache-status.mjs';

interface Reply {
  status: number;
  cacheStatus: string | null;
  age: number | undefined;
  etag: string | null;
  body: { id?: number; render?: number };
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  const text = await response.text();
  const age = response.headers.get('age');
  return {
    status: response.status,
    cacheStatus: response.headers.get('cache-status'),
    age: age === null ? undefined : Number(age),
    etag: response.headers.get('etag'),
    body: response.status === 200 ? (JSON.parse(text) as Reply['body']) : {},
  };
}

/** The `ttl` parameter of a hit's Cache-Status (seconds of freshness left). */
function hitTtl(reply: Reply): number {
  const match = /^cachette; hit; ttl=(\d+)$/.exec(reply.cacheStatus ?? '');
  expect(match).not.toBeNull();
  return Number(match?.[1]);
}

describe('recipe: HTTP handler with Cache-Status', () => {
  const redis = builtWith(startRedis);

  it('reports a miss, then hits with Age and ETag, then a forced refresh, on Redis', async () => {
    const app = await startRecipeServer(RECIPE, { REDIS_URL: redis().url });
    let run: RecipeRun;
    try {
      const miss = await get(app.port, '/products/1');
      expect(miss).toMatchObject({ status: 200, cacheStatus: 'cachette; fwd=miss; ttl=300', age: 0, body: { id: 1, render: 1 } });
      expect(await redis().admin.exists('recipes-http:getProduct:1')).toBe(1);

      const hit = await get(app.port, '/products/1');
      expect(hit).toMatchObject({ status: 200, etag: miss.etag, body: { id: 1, render: 1 } });
      // ttl counts down from 300 s as Age counts up: whatever the time between the two requests,
      // the two whole-second figures add up to 299 or 300.
      expect([299, 300]).toContain(hitTtl(hit) + (hit.age ?? NaN));

      const revalidated = await get(app.port, '/products/1', { 'if-none-match': miss.etag ?? '' });
      expect(revalidated.status).toBe(304);
      expect(revalidated.body).toEqual({});
      hitTtl(revalidated);

      const refreshed = await get(app.port, '/products/1?fresh=1');
      expect(refreshed).toMatchObject({ status: 200, cacheStatus: 'cachette; fwd=request; ttl=300', age: 0, body: { id: 1, render: 2 } });
      expect(refreshed.etag).not.toBe(miss.etag);
      expect(await redis().admin.get('recipes-http:getProduct:1')).toContain('"render":2');

      const afterRefresh = await get(app.port, '/products/1');
      expect(afterRefresh).toMatchObject({ etag: refreshed.etag, body: { render: 2 } });
      hitTtl(afterRefresh);

      const other = await get(app.port, '/products/2');
      expect(other).toMatchObject({ cacheStatus: 'cachette; fwd=miss; ttl=300', body: { id: 2, render: 3 } });
      expect((await get(app.port, '/nothing')).status).toBe(404);
    } finally {
      run = await app.stop();
    }
    expect(run.stderr).toBe('');
    expect(run.lines).toEqual([expect.stringMatching(/^listening on http:\/\/127\.0\.0\.1:\d+ \(store: redis\)$/), 'stopped after 3 renders']);
    expect(run.code).toBe(0);
  }, 60_000);

  it('runs on the memory store when REDIS_URL is unset', async () => {
    const app = await startRecipeServer(RECIPE);
    let run: RecipeRun;
    try {
      expect(await get(app.port, '/products/7')).toMatchObject({ cacheStatus: 'cachette; fwd=miss; ttl=300', body: { render: 1 } });
      const hit = await get(app.port, '/products/7');
      expect(hit.body.render).toBe(1);
      expect([299, 300]).toContain(hitTtl(hit) + (hit.age ?? NaN));
    } finally {
      run = await app.stop();
    }
    expect(run.stderr).toBe('');
    expect(run.lines).toEqual([expect.stringMatching(/\(store: memory\)$/), 'stopped after 1 renders']);
  }, 60_000);
});
