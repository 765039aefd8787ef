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
 * Nothing here keeps a function or a cache alive: heads are kept per cache in a `WeakMap`, functions
 * by `WeakRef`, and a head's entry is dropped once its functions are collected. So tests and hot
 * reloads that re-create wrappers do not leak. A function that is no longer reachable cannot be called
 * again, so its head is free once it is collected; until then a re-created function with the same
 * name is refused (give it an explicit `name`).
 * @module
 */
import { configError } from './config/parse.js';

type Owners = Map<string, Array<WeakRef<object>>>;

const ownersByCache = new WeakMap<object, Owners>();

/** Drops a head's entry once the last of its functions has been collected. */
const collected = new FinalizationRegistry<{ owners: Owners; head: string }>(({ owners, head }) => {
  const live = owners.get(head)?.filter((ref) => ref.deref() !== undefined);
  if (live === undefined || live.length === 0) owners.delete(head);
  else owners.set(head, live);
});

/**
 * Record that `fn` uses the key head `head` on `cache`.
 * @param explicit the identity was chosen (`name`, `sharedContext` or `key`), not taken from `fn.name`.
 * @throws {CacheConfigError} (field `name`) when `explicit` is false and another live function already
 *   uses `head` on this cache.
 */
export function claimKeyHead(cache: object, head: string, fn: object, explicit: boolean): void {
  let owners = ownersByCache.get(cache);
  if (owners === undefined) {
    owners = new Map();
    ownersByCache.set(cache, owners);
  }
  const live = (owners.get(head) ?? []).filter((ref) => ref.deref() !== undefined);
  if (live.some((ref) => ref.deref() === fn)) return;
  if (!explicit && live.length > 0) {
    const name = (fn as { name?: unknown }).name;
    throw configError(
      'name',
      `another function already uses the keys "${head}…" on this cache, and this one is also named "${String(name)}"; ` +
        'they would read each other\'s entries. Give each function its own name option (or the same name on purpose to share entries)',
    );
  }
  live.push(new WeakRef(fn));
  owners.set(head, live);
  collected.register(fn, { owners, head });
}
