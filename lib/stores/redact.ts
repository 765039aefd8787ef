/**
 * Secrets out of foreign errors, at the boundary where node-redis errors enter cachette.
 *
 * Redis echoes the start of a refused command's arguments (`ERR unknown command 'HELLO', with args
 * beginning with: '3' 'AUTH' 'default' '<password>'`), truncated to 128 characters, so a long
 * password may appear only as a prefix: searching for the password alone is not enough. Both rules
 * run on every string of the error (message, stack, own properties, the `cause` chain):
 * - the argument echo is cut after `with args beginning with:`;
 * - each known secret (raw and percent-encoded) is replaced.
 *
 * An error with nothing to redact is passed on as it is; otherwise a copy with the same prototype
 * (so `instanceof` and the reply class still tell a refusal from an outage) is made, and the
 * original, which a client you own may also have handed to your listeners, is left untouched.
 * @module
 */

const ARGUMENT_ECHO = /(with args beginning with:)[^\r\n]*/g;
const REDACTED = '[redacted]';
/** Deeper structures than this are not expected in an error and are cut rather than walked. */
const MAX_DEPTH = 8;

/** Makes a function that returns `error` without the given secrets (the same object when it holds none). */
export function redactor(secrets: ReadonlyArray<string | undefined>): (error: unknown) => unknown {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret === '') continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  const text = (value: string): string => {
    let out = value.includes('with args beginning with:') ? value.replace(ARGUMENT_ECHO, `$1 ${REDACTED}`) : value;
    for (const needle of ordered) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
  return (error) => redactValue(error, text, 0, new Map());
}

function redactValue(value: unknown, text: (value: string) => string, depth: number, seen: Map<object, unknown>): unknown {
  if (typeof value === 'string') return text(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (depth > MAX_DEPTH) return undefined;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  seen.set(value, undefined); // a cycle back to an object being walked is cut, never kept with its secret
  const keys = Reflect.ownKeys(value);
  const next = new Map<PropertyKey, unknown>();
  let changed = false;
  for (const key of keys) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    const current = 'value' in descriptor ? descriptor.value : safeRead(value, key);
    const redacted = redactValue(current, text, depth + 1, seen);
    if (redacted !== current) changed = true;
    next.set(key, redacted);
  }
  // `message` and `stack` may live on the prototype chain for some errors: check those too.
  if (value instanceof Error) {
    for (const key of ['message', 'stack'] as const) {
      if (next.has(key)) continue;
      const current = value[key];
      if (typeof current === 'string' && text(current) !== current) {
        next.set(key, text(current));
        changed = true;
      }
    }
    if (!next.has('cause') && 'cause' in value) {
      const cause = redactValue(value.cause, text, depth + 1, seen);
      if (cause !== value.cause) {
        next.set('cause', cause);
        changed = true;
      }
    }
  }
  if (!changed) {
    seen.set(value, value);
    return value;
  }
  const copy: object = Array.isArray(value) ? [] : Object.create(Object.getPrototypeOf(value) as object | null);
  seen.set(value, copy);
  for (const [key, redacted] of next) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    Object.defineProperty(copy, key, {
      value: redacted,
      writable: true,
      configurable: true,
      enumerable: descriptor?.enumerable ?? false,
    });
  }
  return copy;
}

function safeRead(value: object, key: PropertyKey): unknown {
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}
