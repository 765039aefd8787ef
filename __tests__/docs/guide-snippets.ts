/**
 * Keeps a guide's TypeScript examples and the test that runs them the same: every ```ts block of the
 * guide must appear in the test file, line for line (indentation, blank lines and imports aside, as
 * the test imports from lib/ and wraps each block in a test of its own).
 *
 * Blocks fenced ```ts are cachette code; a guide shows the other library's code fenced ```js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The ```ts blocks of a Markdown file under the repository root. */
export function tsBlocks(path: string): string[] {
  const text = readFileSync(join(root, path), 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((match) => match[1]!);
}

function normalise(code: string): string {
  return code
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('import '))
    .join('\n');
}

/** The ```ts blocks of `guide` that `testFile` does not contain line for line (first lines shown). */
export function blocksMissingFrom(guide: string, testFile: string): string[] {
  const test = normalise(readFileSync(testFile, 'utf8'));
  return tsBlocks(guide)
    .filter((block) => !test.includes(normalise(block)))
    .map((block) => normalise(block).split('\n').slice(0, 2).join(' / '));
}
