/**
 * What the shipped documentation says must match the code and the package: every relative link in a
 * shipped Markdown file resolves to a shipped file, every stats object shown lists the counters
 * `createStats()` makes (in its order), every list of call-option names is complete, and the logging
 * guide names every failure `kind`.
 *
 * "Shipped" is what `npm pack --dry-run` lists: the published tarball, where docs/ travels without
 * bench/, examples/ or lib/.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { CALL_OPTION_NAMES } from '../lib/config/call-options.js';
import { cached, CacheKeyError, createCache } from '../lib/index.js';
import { createStats } from '../lib/stats.js';

const root = join(__dirname, '..');
let shipped: Set<string>;
let markdown: Array<{ path: string; text: string }>;

beforeAll(() => {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(pack.status).toBe(0);
  const [report] = JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>;
  shipped = new Set(report!.files.map((file) => file.path));
  markdown = [...shipped]
    .filter((path) => path.endsWith('.md') && !path.startsWith('docs/reference/'))
    .sort()
    .map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}, 60_000);

/** The text without fenced code blocks (links in code are not links). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

describe('the shipped documentation', () => {
  it('ships the guides, the README and the changelog', () => {
    expect(markdown.map((file) => file.path)).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/guides/getting-started.md']));
  });

  it('links only to files that are in the tarball (relative links), or to full URLs', () => {
    const broken: string[] = [];
    for (const { path, text } of [...markdown, ...referencePages()]) {
      for (const match of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s*(\S+)/gm)) {
        const link = (match[1] ?? match[2])!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('#')) continue;
        const target = posix.normalize(posix.join(dirname(path), decodeURIComponent(link.split('#')[0]!)));
        const isFile = shipped.has(target);
        const isFolder = shipped.has(posix.join(target, 'README.md'));
        if (!isFile && !isFolder) broken.push(`${path}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('links to headings that exist, in the page linked to', () => {
    const pages = new Map([...markdown, ...referencePages()].map((file) => [file.path, file.text]));
    const broken: string[] = [];
    for (const [path, text] of pages) {
      for (const match of prose(text).matchAll(/\]\(([^)\s]*#[^)\s]+)\)/g)) {
        const link = match[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
        const [file, fragment] = link.split('#') as [string, string];
        const target = file === '' ? path : posix.normalize(posix.join(dirname(path), decodeURIComponent(file)));
        const page = pages.get(target);
        if (page !== undefined && !anchorsOf(page).has(decodeURIComponent(fragment))) broken.push(`${path}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('shows stats objects with the counters of createStats(), in order', () => {
    const counters = Object.keys(createStats());
    const shown: Array<{ where: string; keys: string[]; partial: boolean }> = [];
    for (const { path, text } of markdown) {
      // An object starting with `{ hits:`, possibly continued on `//` comment lines.
      for (const match of text.matchAll(/\{ hits:[^}]*\}/g)) {
        const body = match[0].replace(/\n\s*\/\/\s*/g, ' ');
        shown.push({ where: `${path} (offset ${match.index})`, keys: [...body.matchAll(/(\w+):/g)].map((m) => m[1]!), partial: body.includes('…') });
      }
    }
    expect(shown.length).toBeGreaterThanOrEqual(4);
    for (const { where, keys, partial } of shown) {
      // A shortened object (ending in …) lists the first counters; a whole one lists them all.
      expect({ where, keys }).toEqual({ where, keys: partial ? counters.slice(0, keys.length) : counters });
    }
  });

  it('lists every call-option name wherever it lists them', () => {
    const names = [...CALL_OPTION_NAMES];
    const lists: Array<{ where: string; missing: string[] }> = [];
    // The changelog keeps what each release had: only the guides and the README must be current.
    for (const { path, text } of markdown.filter((file) => file.path !== 'CHANGELOG.md')) {
      // A run of names: `a`, `b` or `c` (one paragraph may wrap it), or { a, b, c }.
      const runs = [...prose(text).matchAll(/`\w+`(?:,?\s+(?:or\s+|and\s+)?`\w+`|,\s*`\w+`)+|\{ ?\w+(?:, \w+)+ ?\}/g)].map((m) => m[0]);
      for (const run of runs) {
        const items = [...run.matchAll(/\w+/g)].map((m) => m[0]).filter((word) => word !== 'or' && word !== 'and');
        // Four or more names, all of them call options: a list of the call options.
        if (items.length >= 4 && items.every((item) => CALL_OPTION_NAMES.has(item))) {
          lists.push({ where: `${path}: ${run}`, missing: names.filter((name) => !items.includes(name)) });
        }
      }
    }
    expect(lists.length).toBeGreaterThanOrEqual(2);
    expect(lists.filter((list) => list.missing.length > 0)).toEqual([]);
  });

  it('has a row for every call option in the call-options table', () => {
    const guide = readFileSync(join(root, 'docs', 'guides', 'call-options.md'), 'utf8');
    const start = guide.indexOf('## The options');
    const table = guide.slice(start, guide.indexOf('\n#', start + 1));
    const rows = [...table.matchAll(/^\| `(\w+)/gm)].map((m) => m[1]!);
    expect(rows.sort()).toEqual([...CALL_OPTION_NAMES].sort());
  });

  it("names every failure kind of lib/log.ts in the logging guide's kind row", () => {
    const source = readFileSync(join(root, 'lib', 'log.ts'), 'utf8');
    const union = /export type FailureKind =([^;]+);/.exec(source)![1]!;
    const kinds = [...union.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    const guide = readFileSync(join(root, 'docs', 'guides', 'failure-behaviour.md'), 'utf8');
    const row = guide.split('\n').find((line) => line.startsWith('| `kind` |'))!;
    const documented = [...row.matchAll(/`'(\w+)'`/g)].map((m) => m[1]!);
    expect(documented.sort()).toEqual(kinds.sort());
  });
});

describe('the call-options guide', () => {
  it('passes a class instance on as an argument, which needs toJSON() for the key, as its table says', async () => {
    class Filters {
      limit = 5;
    }
    class KeyedFilters {
      limit = 5;
      toJSON(): object {
        return { limit: this.limit };
      }
    }
    const received: unknown[][] = [];
    const search = cached(async (query: string, filters?: object) => (received.push([query, filters]), query), {
      cache: createCache({ logger: { warn() {}, error() {} } }),
      name: 'search',
    });
    await expect(search('x', new Filters())).rejects.toBeInstanceOf(CacheKeyError);
    const keyed = new KeyedFilters();
    expect(await search('x', keyed)).toBe('x');
    expect(received).toEqual([['x', keyed]]);
    expect(received[0]![1]).toBe(keyed);
  });
});

/** The anchors GitHub and npm give a page's headings (lower case, punctuation dropped, spaces to hyphens, repeats numbered). */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = match[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const repeats = seen.get(slug) ?? 0;
    seen.set(slug, repeats + 1);
    anchors.add(repeats === 0 ? slug : `${slug}-${repeats}`);
  }
  for (const match of text.matchAll(/<a (?:name|id)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** The generated API reference pages, which link to each other and to the guides. */
function referencePages(): Array<{ path: string; text: string }> {
  return [...shipped]
    .filter((path) => path.startsWith('docs/reference/') && path.endsWith('.md'))
    .map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}
