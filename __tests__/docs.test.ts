/**
 * The committed API reference (docs/reference/) must be what typedoc makes from lib/'s TSDoc today.
 * The test regenerates it into a temporary folder with the project's typedoc.json and compares the
 * two trees file by file. When it fails, run `npm run docs` and commit docs/reference/.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const root = join(__dirname, '..');
const committed = join(root, 'docs', 'reference');
let fresh: string;

beforeAll(() => {
  fresh = mkdtempSync(join(tmpdir(), 'cachette-reference-'));
});

afterAll(() => {
  rmSync(fresh, { recursive: true, force: true });
});

/** Every file under `dir`, as '/'-separated paths relative to it, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

it('keeps docs/reference in step with the TSDoc in lib/ (run `npm run docs` when this fails)', () => {
  // typedoc is ESM-only, so run its CLI in a child process rather than importing it into jest.
  // Same flags as `npm run docs`: with --skipErrorChecking typedoc resolves some inherited members
  // differently (CacheOriginTimeoutError.store), so the test would reject what `npm run docs` makes.
  const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const run = spawnSync(process.execPath, [typedoc, '--out', fresh, '--logLevel', 'Error'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect({ status: run.status, stderr: run.stderr, stdout: run.stdout.trim() === '' ? '' : run.stdout }).toEqual({
    status: 0,
    stderr: '',
    stdout: '',
  });

  const want = filesUnder(fresh);
  expect(want).toContain('README.md');
  const have = filesUnder(committed);
  const missing = want.filter((file) => !have.includes(file));
  const extra = have.filter((file) => !want.includes(file));
  const stale = want.filter((file) => have.includes(file) && readFileSync(join(fresh, file), 'utf8') !== readFileSync(join(committed, file), 'utf8'));
  const drift = [...missing.map((f) => `missing: ${f}`), ...extra.map((f) => `no longer generated: ${f}`), ...stale.map((f) => `out of date: ${f}`)];
  if (drift.length > 0) {
    throw new Error(`docs/reference differs from the TSDoc in lib/; run \`npm run docs\` and commit docs/reference:\n  ${drift.join('\n  ')}`);
  }
}, 60_000);
