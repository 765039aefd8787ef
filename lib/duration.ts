/**
 * A length of time: a number of **milliseconds**, or a string with a unit: `'500ms'`, `'30s'`,
 * `'5m'`, `'1h'`, `'1d'` (decimals allowed: `'1.5s'`).
 */
export type Duration = number | `${number}${DurationUnit}`;

/** Units accepted in a {@link Duration} string. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const unitMs: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const pattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/**
 * Milliseconds for `value`, or `undefined` when it is not a valid non-negative duration
 * (negative, NaN, unknown unit). `Infinity` is allowed and means "no expiry".
 */
export function toMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value >= 0 ? value : undefined; // NaN >= 0 is false
  if (typeof value !== 'string') return undefined;
  const match = pattern.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * unitMs[match[2] as DurationUnit];
}

/** A short description of what was received, by type, for error messages (never the value itself). */
export function describeReceived(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
