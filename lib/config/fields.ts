/**
 * Field helpers shared by every option schema: durations with their limits, strings, booleans,
 * functions, and nested objects that keep their field paths. Messages name the rule and what was
 * received as a *type* (or a short number/duration), never a value that could be a secret.
 * @module
 */
import { z } from 'zod';
import { MAX_TIMER_MS, MAX_TTL_MS } from '../defaults.js';
import { describeReceived, toMs } from '../duration.js';

export const isFunction = (value: unknown): boolean => typeof value === 'function';
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** `null`, `array` or the `typeof`: what a wrong value was, without showing it. */
export function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** What a wrong duration was: short strings and numbers are shown (they are not secrets), the rest by type. */
function shownDuration(value: unknown): string {
  return typeof value === 'string' && value.length <= 16 ? JSON.stringify(value) : describeReceived(value);
}

const DURATION_FORMS = "milliseconds, or a string such as '500ms', '30s', '5m', '1h', '1d'";

/**
 * A time to live or a stale window: a non-negative duration up to {@link MAX_TTL_MS}, or (when
 * `infinite`) `Infinity` for "no expiry".
 */
export const ttlDuration = (infinite: boolean) =>
  z.unknown().superRefine((value, ctx) => {
    const ms = toMs(value);
    if (ms !== undefined && (ms <= MAX_TTL_MS || (infinite && ms === Infinity))) return;
    if (ms !== undefined) {
      const instead = infinite ? '; use Infinity (or leave it out) for no expiry' : '';
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_TTL_MS} ms (about 31,700 years)${instead}, got ${shownDuration(value)}` });
      return;
    }
    ctx.addIssue({ code: 'custom', message: `must be a non-negative duration, got ${shownDuration(value)} (${DURATION_FORMS})` });
  });

/**
 * A duration a Node timer can hold: `min` ≤ ms ≤ 2^31−1 (about 24.8 days). Node fires longer timers
 * after 1 ms, so they are refused rather than silently shortened.
 */
export const timerDuration = (min: 0 | 1) =>
  z.unknown().superRefine((value, ctx) => {
    const ms = toMs(value);
    if (ms !== undefined && ms >= min && ms <= MAX_TIMER_MS) return;
    const kind = min === 1 ? 'positive' : 'non-negative';
    const none = ms === Infinity ? ' (leave it out for no limit)' : '';
    ctx.addIssue({ code: 'custom', message: `must be a ${kind} duration of at most ${MAX_TIMER_MS} ms${none}, got ${shownDuration(value)}` });
  });

export const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>(isFunction, { error: (issue) => `expected ${what}, received ${describeReceived(issue.input)}` });

// Only the type of a wrong value is shown: a misplaced password must not reach an error message.
export const text = (what = 'a string') => z.string({ error: (issue) => `expected ${what}, received ${describeType(issue.input)}` });
export const nonEmpty = (what: string) => text(what).min(1, { error: 'must not be empty' });
export const bool = z.boolean({ error: (issue) => `expected a boolean, received ${describeType(issue.input)}` });

/** An integer in `[min, max]`; the message shows the number received (numbers are not secrets). */
export const integer = (min: number, max: number, what: string) =>
  z
    .unknown()
    .refine((v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max, {
      error: (i) => `must be ${what}, got ${describeReceived(i.input)}`,
    })
    .transform((v) => v as number);

/**
 * A field that is a boolean or an object checked by `schema`; the object's issues keep their own
 * paths (`lock.ttl`, `breaker.cooldown`).
 */
export const booleanOr = <T>(schema: z.ZodType<T>, expected: string) =>
  z.unknown().superRefine((value, ctx) => {
    if (typeof value === 'boolean') return;
    if (!isObject(value) || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, received ${describeReceived(value)}` });
      return;
    }
    nested(schema, value, ctx);
  }) as unknown as z.ZodType<boolean | T>;

/** Check `value` with `schema` inside a refinement, reporting its issues at their own paths. */
export function nested(schema: z.ZodType, value: unknown, ctx: z.RefinementCtx): void {
  const result = schema.safeParse(value);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
}

/** `true` when `A` and `B` have the same keys: keeps a hand-written option type and its schema in step. */
export type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;

/** A compile-time check: `agree<SameKeys<A, B>>(true)` fails to type-check when the keys differ. */
export const agree = <T extends true>(value: T): T => value;
