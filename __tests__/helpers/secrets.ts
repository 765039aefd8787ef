/**
 * Deep search for a secret in anything cachette hands out: log fields, thrown errors (message,
 * stack, every own property, enumerable or not, and the `cause` chain at any depth).
 */

/** The paths under `value` whose string contains `needle` (empty when none does). */
export function findSecret(value: unknown, needle: string): string[] {
  const found: string[] = [];
  const seen = new Set<object>();
  const walk = (current: unknown, path: string): void => {
    if (typeof current === 'string') {
      if (current.includes(needle)) found.push(path);
      return;
    }
    if (typeof current !== 'object' || current === null || seen.has(current)) return;
    seen.add(current);
    if (current instanceof Error) {
      walk(current.message, `${path}.message`);
      walk(current.stack, `${path}.stack`);
      walk(current.cause, `${path}.cause`);
      walk(String(current), `${path}.toString()`);
    }
    for (const key of Reflect.ownKeys(current)) {
      let child: unknown;
      try {
        child = (current as Record<PropertyKey, unknown>)[key];
      } catch {
        continue;
      }
      walk(child, `${path}.${String(key)}`);
    }
  };
  walk(value, '$');
  return found;
}
