/**
 * Which functions use which key heads, per cache: the guard against two different functions that got
 * the same name by accident (two `load`s from two modules, two `bound get`s, a minifier's `a`s).
 * Their keys would be equal, so each would return the other's data.
 *
 * A function whose identity is its own `fn.name` (no `name`, `sharedContext` or `key` option) may use
 * a key head (`[namespace:][keyPrefix:]<name>[:v<version>]`) only if no *other* live function uses it
 * on the same cache. Wrapping the same function again is fine. An explicit `name`, `sharedContext` or
 * `key` is a choice: such functions share their head on purpose and are never refused, but they still
 * hold it against a later function that only has its own name.
 *
 * Nothing here keeps a function or a cache alive: heads are kept per cache in a `WeakMap`, the
 * functions of a head in a `WeakSet` with a count of the live ones, kept by a `FinalizationRegistry`
 * that drops the head once all are collected. So tests and hot reloads that re-create wrappers do not
 * leak. A function that is no longer reachable cannot be called again, so its head is free once it is
 * collected; until then a re-created function with the same name is refused (give it an explicit
 * `name`).
 * @module
 */
import { configError } from './config/parse.js';

/** The functions using one key head: a weak set, and how many of them are still alive. */
interface Holders {
  readonly members: WeakSet<object>;
  live: number;
}
type HeadsOf = Map<string, Holders>;

const headsByCache = new WeakMap<object, HeadsOf>();

/** Counts a collected function out of its head, and drops the head once none is left. */
const collected = new FinalizationRegistry<{ heads: HeadsOf; head: string; holders: Holders }>(({ heads, head, holders }) => {
  holders.live--;
  if (holders.live === 0 && heads.get(head) === holders) heads.delete(head);
});

/**
 * Record that `fn` uses the key head `head` on `cache`. Constant time, whatever the number of
 * functions sharing the head.
 * @param explicit the identity was chosen (`name`, `sharedContext` or `key`), not taken from `fn.name`.
 * @throws {CacheConfigError} (field `name`) when `explicit` is false and another live function already
 *   uses `head` on this cache.
 */
export function claimKeyHead(cache: object, head: string, fn: object, explicit: boolean): void {
  let heads = headsByCache.get(cache);
  if (heads === undefined) {
    heads = new Map();
    headsByCache.set(cache, heads);
  }
  let holders = heads.get(head);
  if (holders === undefined) {
    holders = { members: new WeakSet(), live: 0 };
    heads.set(head, holders);
  }
  if (holders.members.has(fn)) return;
  if (!explicit && holders.live > 0) {
    const name = (fn as { name?: unknown }).name;
    throw configError(
      'name',
      `another function already uses the keys "${head}…" on this cache, and this one is also named "${String(name)}"; ` +
        "they would read each other's entries. Give each function its own name option (or the same name on purpose to share entries)",
    );
  }
  holders.members.add(fn);
  holders.live++;
  collected.register(fn, { heads, head, holders });
}
