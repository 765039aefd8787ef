/**
 * bench/chart.mjs turns the JSON of `npm run bench` into docs/bench-chart.svg. These tests run it on
 * small hand-made runs and read the SVG back: one bar per contestant, lengths in proportion to the
 * ratios, each phase from the newest run that has it, and names escaped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const script = join(__dirname, '..', '..', 'bench', 'chart.mjs');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cachette-chart-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const machine = { cpus: 2, node: 'v20.0.0', revision: 'abc1234' };

function contestant(ratioToRaw: number, medianOps: number) {
  return { medianOps, ratioToRaw };
}

/** Runs the script on these runs (written as files) and returns the SVG it wrote. */
function chart(...runs: object[]): string {
  const files = runs.map((run, i) => {
    const file = join(dir, `run-${i}.json`);
    writeFileSync(file, JSON.stringify(run));
    return file;
  });
  const out = join(dir, 'chart.svg');
  const run = spawnSync(process.execPath, [script, ...files, '--out', out], { encoding: 'utf8', timeout: 30_000 });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  return readFileSync(out, 'utf8');
}

/** The bars, in order: the title inside each rect, and its width. */
function bars(svg: string): Array<{ title: string; width: number }> {
  return [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => ({
    title: m[2]!,
    width: Number(m[1]),
  }));
}

const fullRun = {
  startedAt: '2026-01-01T10:00:00.000Z',
  machine,
  results: [
    {
      label: 'hit',
      concurrency: 1,
      contestants: { raw: contestant(1, 1000), cachette: contestant(0.5, 500), cachified: contestant(0.25, 250) },
    },
  ],
};

describe('bench/chart.mjs', () => {
  it('draws one bar per contestant, its length in proportion to its ratio', () => {
    const drawn = bars(chart(fullRun));
    expect(drawn.map((bar) => bar.title)).toEqual([
      'raw node-redis client: 1.00×, 1,000 ops/s',
      'cachette: 0.50×, 500 ops/s',
      '@epic-web/cachified 5: 0.25×, 250 ops/s',
    ]);
    expect(drawn[1]!.width / drawn[0]!.width).toBeCloseTo(0.5, 2);
    expect(drawn[2]!.width / drawn[0]!.width).toBeCloseTo(0.25, 2);
  });

  it('takes each phase from the newest run that has it, and says which run', () => {
    const older = { ...fullRun, startedAt: '2025-12-01T10:00:00.000Z', machine: { ...machine, revision: 'old0000' } };
    const newer = {
      startedAt: '2026-02-01T10:00:00.000Z',
      machine: { ...machine, revision: 'new0000' },
      memory: {
        others: [{ id: 'cachette-b', title: 'an earlier build' }],
        rows: [
          {
            concurrency: 64,
            measured: {
              pMemoize: { perRound: [100, 200, 300], medianOps: 200 },
              cachette: { perRound: [50, 100, 150], medianOps: 100 },
              'cachette-b': { perRound: [10, 20, 30], medianOps: 20 },
            },
          },
        ],
      },
    };
    const svg = chart(newer, older);
    expect(svg).toContain('run 2025-12-01 10:00 UTC · cachette old0000');
    expect(svg).toContain('run 2026-02-01 10:00 UTC · cachette new0000');
    // The memory phase's earlier build of cachette is not a peer: left out.
    expect(bars(svg).map((bar) => bar.title.split(':')[0])).toEqual(['raw node-redis client', 'cachette', '@epic-web/cachified 5', 'p-memoize 9', "cachette, store"]);
    expect(bars(svg)[4]!.title).toBe('cachette, store: { type: &#39;memory&#39; }: 0.50×, 100 ops/s');

    const newerFull = { ...fullRun, startedAt: '2026-03-01T10:00:00.000Z', machine: { ...machine, revision: 'new1111' } };
    expect(chart(older, newerFull)).toContain('cachette new1111');
    expect(chart(older, newerFull)).not.toContain('cachette old0000');
  });

  it('escapes names that hold markup', () => {
    const tier = {
      startedAt: '2026-01-01T10:00:00.000Z',
      machine,
      tier: {
        contenders: [{ id: 'x', title: 'a <b> & "c"' }],
        rows: [{ concurrency: 1, contestants: { x: { medianOps: 10, ratioToPMemoize: 1 } } }],
      },
    };
    const svg = chart(tier);
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).not.toContain('<b>');
  });
});
