/**
 * The invalidation stamps a cached function's entries must carry to be served (see
 * `lib/invalidation.ts`), for tests that write entries by hand.
 */
import type { Cache } from '../../lib/index.js';
import { generationKey } from '../../lib/invalidation.js';

/**
 * The current stamps of an untagged function whose key head is `head` (`f.keyFor()` of a function
 * without arguments), loading its generations as its first call would.
 */
export async function stampsOf(cache: Cache, head: string): Promise<string> {
  const keys = cache.namespace === undefined ? [generationKey(head)] : [generationKey(cache.namespace), generationKey(head)];
  await cache.generations.load(keys);
  return keys.map((key) => cache.generations.valueOf(key)).join(',');
}
