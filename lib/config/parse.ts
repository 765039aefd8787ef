/**
 * Turning zod's verdict into a {@link CacheConfigError} that names the field first.
 * @module
 */
import type { z } from 'zod';
import { CacheConfigError, type ConfigIssue } from '../errors.js';

/**
 * Parse `input` with `schema`, or throw a {@link CacheConfigError} naming the first bad field
 * (`cachette: store.url: must start with redis:// or rediss://`). zod leaves `input` out of its
 * issues (no `reportInput`), so no received value reaches the error.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: joinPath(prefix, [...issue.path, key]), message: 'is not a known option' });
      }
    } else {
      issues.push({ path: joinPath(prefix, issue.path), message: issue.message.replace(/^Invalid input: /, '') });
    }
  }
  const first = issues[0] ?? { path: prefix, message: 'is invalid' };
  const where = first.path === '' ? 'options' : first.path;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map((i) => i.path || 'options').join(', ')})` : '';
  throw new CacheConfigError(`cachette: ${where}: ${first.message}${more}`, first.path, issues);
}

/** A {@link CacheConfigError} for one field, built by hand (checks zod cannot express). */
export function configError(field: string, message: string): CacheConfigError {
  return new CacheConfigError(`cachette: ${field}: ${message}`, field, [{ path: field, message }]);
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  const parts = path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p)));
  return [prefix, ...parts].filter((p) => p !== '').join('.');
}
