// Draws docs/bench-chart.svg from the JSON that `npm run bench` writes (.bench-tmp/results.json):
// horizontal bars, one per contestant and scenario, of the ratio the report tables give (median of
// the per-round ratios, same run), labelled with the ratio and the ops/s.
//
//   node bench/chart.mjs                                   # .bench-tmp/results.json → docs/bench-chart.svg
//   node bench/chart.mjs full.json memory.json tier.json   # several runs: each phase from the newest run that has it
//   node bench/chart.mjs --out /tmp/chart.svg …
//
// Three panels, each drawn when a run has its phase: Redis hits and misses beside the raw node-redis
// client (`results`), memory-store hits beside p-memoize and lru-cache (`memory`), and hits from process
// memory, cachette's tier beside bentocache's L1 (`tier`). The output depends only on the input files
// (no clock, no machine state), so the same runs always give the same bytes.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const WIDTH = 960;
const LABEL_WIDTH = 300; // contestant names, right-aligned at this x
const BAR_START = LABEL_WIDTH + 10;
const BAR_SPACE = WIDTH - BAR_START - 170; // room for the value label after the longest bar
const BAR_HEIGHT = 14;
const BAR_GAP = 4;
const GROUP_GAP = 14;
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** One colour per contestant, so a peer keeps its colour across panels. */
const COLOURS = {
  raw: '#94a3b8',
  cachette: '#0f766e',
  'cachette-tier': '#0f766e',
  'cachette-tier-copied': '#5eaaa0',
  cachified: '#b45309',
  'cache-manager': '#7c3aed',
  bentocache: '#be123c',
  'bentocache-shared': '#e4798f',
  pMemoize: '#475569',
  'p-memoize': '#475569',
  lruCache: '#1e3a8a',
  'lru-cache': '#1e3a8a',
};

const TITLES = {
  raw: 'raw node-redis client',
  cachette: 'cachette',
  cachified: '@epic-web/cachified 5',
  'cache-manager': 'cache-manager 7 + @keyv/redis',
  pMemoize: 'p-memoize 9',
  lruCache: 'lru-cache 11, memoized by hand',
};

function parseArgs(argv) {
  const files = [];
  let out = new URL('../docs/bench-chart.svg', import.meta.url);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i];
    else files.push(argv[i]);
  }
  if (files.length === 0) files.push(new URL('../.bench-tmp/results.json', import.meta.url));
  return { files, out };
}

/** Each phase (`results`, `memory`, `tier`) from the newest run that has it, with that run's stamp. */
export function pickPhases(runs) {
  const newestFirst = [...runs].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  const phases = {};
  for (const phase of ['results', 'memory', 'tier']) {
    const run = newestFirst.find((r) => (phase === 'results' ? Array.isArray(r.results) && r.results.length > 0 : r[phase]?.rows?.length > 0));
    if (run !== undefined) phases[phase] = { data: run[phase], stamp: stampOf(run) };
  }
  return phases;
}

function stampOf(run) {
  const at = run.startedAt.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  return `run ${at} · cachette ${run.machine?.revision ?? '?'} · ${run.machine?.cpus ?? '?'} CPUs · node ${run.machine?.node ?? '?'}`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The ratio bench/run.mjs prints: the median of the per-round ratios of a to b. */
function pairedRatio(a, b) {
  return median(a.perRound.map((value, round) => value / b.perRound[round]));
}

/** Panels as plain data: { title, note, reference, groups: [{ label, bars: [{ id, title, ratio, ops }] }] }. */
export function panelsOf(phases) {
  const panels = [];
  if (phases.results) {
    panels.push({
      title: 'Redis: calls per second, as a ratio to the raw node-redis client',
      note: phases.results.stamp,
      reference: 'raw node-redis = 1',
      groups: phases.results.data.map((row) => ({
        label: `${row.label}, ${row.concurrency} in flight`,
        bars: Object.entries(row.contestants).map(([id, c]) => ({ id, title: TITLES[id] ?? id, ratio: c.ratioToRaw, ops: c.medianOps })),
      })),
    });
  }
  if (phases.memory) {
    const others = new Set((phases.memory.data.others ?? []).map((other) => other.id));
    panels.push({
      title: 'Memory store, no Redis: hits per second, as a ratio to p-memoize',
      note: phases.memory.stamp,
      reference: 'p-memoize = 1',
      groups: phases.memory.data.rows
        .filter((row) => row.measured.pMemoize !== undefined)
        .map((row) => ({
          label: `hit, ${row.concurrency} in flight`,
          bars: Object.entries(row.measured)
            .filter(([id]) => !others.has(id)) // earlier builds of cachette compared in the same run: not peers
            .map(([id, m]) => ({
              id,
              title: id === 'cachette' ? "cachette, store: { type: 'memory' }" : (TITLES[id] ?? id),
              ratio: pairedRatio(m, row.measured.pMemoize),
              ops: m.medianOps,
            })),
        })),
    });
  }
  if (phases.tier) {
    panels.push({
      title: 'Hits from process memory, kept coherent across processes through Redis: ratio to p-memoize',
      note: phases.tier.stamp,
      reference: 'p-memoize = 1',
      groups: phases.tier.data.rows.map((row) => ({
        label: `hit, ${row.concurrency} in flight`,
        bars: phases.tier.data.contenders
          .filter(({ id }) => row.contestants[id]?.ratioToPMemoize !== undefined)
          .map(({ id, title }) => ({ id, title, ratio: row.contestants[id].ratioToPMemoize, ops: row.contestants[id].medianOps })),
      })),
    });
  }
  return panels;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const ops = (n) => `${Math.round(n).toLocaleString('en-US')} ops/s`;

/** A tick step that gives 4 to 8 gridlines up to `max`. */
function tickStep(max) {
  for (const step of [0.1, 0.25, 0.5, 1, 2, 5]) if (max / step <= 8) return step;
  return 10;
}

export function render(panels) {
  const parts = [];
  let y = 32;
  parts.push(`<text x="16" y="${y}" font-size="18" font-weight="600">cachette beside its peers (npm run bench)</text>`);
  y += 20;
  parts.push(`<text x="16" y="${y}" font-size="12" fill="#475569">Bars: median over rounds of the per-round ratio, same run, same process; longer is faster. Labels: ratio · median ops/s.</text>`);
  y += 18;
  for (const panel of panels) {
    y += 22;
    parts.push(`<text x="16" y="${y}" font-size="15" font-weight="600">${escape(panel.title)}</text>`);
    y += 16;
    parts.push(`<text x="16" y="${y}" font-size="11" fill="#64748b">${escape(panel.note)}</text>`);
    y += 12;
    const max = Math.max(1, ...panel.groups.flatMap((g) => g.bars.map((b) => b.ratio)));
    const step = tickStep(max);
    const top = Math.ceil(max / step) * step;
    const x = (ratio) => BAR_START + (ratio / top) * BAR_SPACE;
    // What the loop below advances y by: 8 before the first group, then per group its label and bars.
    const height = 8 + panel.groups.reduce((sum, g) => sum + 12 + g.bars.length * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP, 0);
    const axisTop = y + 4;
    // Gridlines and their ratios, under the bars.
    for (let t = 0; t <= top + 1e-9; t += step) {
      const gx = x(t).toFixed(1);
      parts.push(`<line x1="${gx}" y1="${axisTop}" x2="${gx}" y2="${axisTop + height}" stroke="#e2e8f0"/>`);
      parts.push(`<text x="${gx}" y="${axisTop + height + 14}" font-size="11" fill="#64748b" text-anchor="middle">${+t.toFixed(2)}×</text>`);
    }
    const one = x(1).toFixed(1);
    parts.push(`<line x1="${one}" y1="${axisTop}" x2="${one}" y2="${axisTop + height}" stroke="#334155" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${one}" y="${axisTop - 2}" font-size="11" fill="#334155" text-anchor="middle">${escape(panel.reference)}</text>`);
    y = axisTop + 8;
    for (const group of panel.groups) {
      y += 12;
      parts.push(`<text x="16" y="${y}" font-size="13" font-weight="600">${escape(group.label)}</text>`);
      y += 6;
      for (const bar of group.bars) {
        const end = x(bar.ratio);
        const mid = y + BAR_HEIGHT / 2 + 4;
        parts.push(`<text x="${LABEL_WIDTH}" y="${mid}" font-size="12" text-anchor="end">${escape(bar.title)}</text>`);
        parts.push(
          `<rect x="${BAR_START}" y="${y}" width="${Math.max(1, end - BAR_START).toFixed(1)}" height="${BAR_HEIGHT}" rx="2" fill="${COLOURS[bar.id] ?? '#64748b'}"><title>${escape(`${bar.title}: ${bar.ratio.toFixed(2)}×, ${ops(bar.ops)}`)}</title></rect>`,
        );
        parts.push(`<text x="${(end + 6).toFixed(1)}" y="${mid}" font-size="12" stroke="#ffffff" stroke-width="3" paint-order="stroke"><tspan font-weight="600">${bar.ratio.toFixed(2)}×</tspan><tspan dx="5" fill="#64748b">· ${ops(bar.ops)}</tspan></text>`);
        y += BAR_HEIGHT + BAR_GAP;
      }
      y += GROUP_GAP - 6;
    }
    y = axisTop + height + 24;
  }
  const total = Math.ceil(y + 8);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${total}" viewBox="0 0 ${WIDTH} ${total}" font-family="${FONT}" fill="#0f172a">`,
    `<title>cachette benchmark: ratios to the raw node-redis client and to p-memoize, beside cachified, cache-manager and bentocache</title>`,
    // A background of its own: GitHub shows an SVG on the page's colour, which is dark in dark mode.
    `<rect width="${WIDTH}" height="${total}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { files, out } = parseArgs(process.argv.slice(2));
  const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
  const panels = panelsOf(pickPhases(runs));
  if (panels.length === 0) {
    console.error('bench/chart.mjs: no results, memory or tier phase in the given files');
    process.exit(1);
  }
  writeFileSync(out, render(panels));
  console.log(`wrote ${out instanceof URL ? out.pathname : out}: ${panels.map((p) => p.groups.reduce((n, g) => n + g.bars.length, 0)).join(' + ')} bars`);
}
