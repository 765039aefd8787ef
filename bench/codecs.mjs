// What each codec and each compression costs on one value: encode and decode time (µs) and stored
// bytes, for the bench's ~200-byte user record, a 10 KB and a 100 KB value. Measured through the
// entry envelope (encodeEntry / decodeEntry, what a miss writes and a hit reads), no store, one
// process, each case in alternating rounds.
//
//   npm run build && node bench/codecs.mjs                 (reads dist/esm)
//   node bench/codecs.mjs <build dir>                      (a build made with tsc --outDir <dir>)
//   BENCH_SCENARIOS=codecs npm run bench                   (the same table, from bench/run.mjs)
//
// Each time is the median of CODEC_ROUNDS rounds (default 15) of about CODEC_ROUND_MS ms (default 60).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const ROUNDS = Number(process.env.CODEC_ROUNDS ?? 15);
const ROUND_MS = Number(process.env.CODEC_ROUND_MS ?? 60);
const CREATED = 1_700_000_000_000;

/** The cases to measure: each codec alone and with each compression this Node has. */
export async function loadCodecs(dir) {
  const load = (file) => import(pathToFileURL(path.resolve(dir, file)).href);
  const { encodeEntry, decodeEntry } = await load('entry.js');
  const { jsonSerializer } = await load('serializers/json.js');
  const { richSerializer } = await load('serializers/rich.js');
  const { msgpackSerializer } = await load('serializers/msgpack.js');
  const { compressing } = await load('serializers/compression.js');
  const algorithms = ['deflate', 'brotli', ...(typeof zlib.zstdCompressSync === 'function' ? ['zstd'] : [])];
  const cases = [];
  for (const serializer of [jsonSerializer, richSerializer, msgpackSerializer]) {
    cases.push({ codec: serializer.name, compression: 'none', serializer });
    for (const algorithm of algorithms) cases.push({ codec: serializer.name, compression: algorithm, serializer: compressing(serializer, { threshold: 0, algorithm }) });
  }
  return { encodeEntry, decodeEntry, cases };
}

// The values: the bench's user record (bench/run.mjs), and lists of varied records of about 10 KB and
// 100 KB of JSON (a seeded generator, so every run measures the same bytes).
const PAD = 'x'.repeat(64);
function makeUser(id) {
  return { id, name: `User ${id}`, email: `user${id}@example.com`, plan: id % 3 === 0 ? 'premium' : 'basic', active: true, roles: ['reader', 'editor'], createdAt: '2024-01-15T10:30:00.000Z', bio: PAD };
}
function listOf(bytes) {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  const pick = () => words[Math.floor(random() * words.length)];
  const items = [];
  while (JSON.stringify(items).length < bytes) {
    const i = items.length;
    items.push({
      id: 100_000 + i,
      sku: `SKU-${Math.floor(random() * 1e6)}`,
      title: `${pick()} ${pick()} ${Math.floor(random() * 1000)}`,
      price: Math.round(random() * 10_000) / 100,
      qty: Math.floor(random() * 20),
      tags: [pick(), pick()],
      updatedAt: new Date(1.7e12 + Math.floor(random() * 1e10)).toISOString(),
      inStock: random() > 0.3,
    });
  }
  return { items, total: items.length };
}
export const VALUES = [
  { name: 'bench record', value: makeUser(7) },
  { name: '10 KB', value: listOf(10 * 1024) },
  { name: '100 KB', value: listOf(100 * 1024) },
];

let sink = 0;
/** µs per call of `run`, over one round of about ROUND_MS. */
function round(run) {
  let n = 0;
  const start = performance.now();
  const end = start + ROUND_MS;
  do {
    for (let i = 0; i < 8; i++) run();
    n += 8;
  } while (performance.now() < end);
  return ((performance.now() - start) * 1000) / n;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Measure every case on every value; returns rows { value, codec, compression, bytes, encodeUs, decodeUs }. */
export async function measureCodecs(dir) {
  const { encodeEntry, decodeEntry, cases } = await loadCodecs(dir);
  const rows = [];
  for (const { name, value } of VALUES) {
    const work = cases.map((c) => {
      const entry = encodeEntry(c.serializer, value, CREATED, 600_000);
      const raw = typeof entry === 'string' ? entry : Buffer.from(entry);
      const back = decodeEntry(c.serializer, raw, false)?.value;
      if (JSON.stringify(back) !== JSON.stringify(value)) throw new Error(`${c.codec}+${c.compression} did not round-trip the ${name}`);
      return {
        ...c,
        bytes: Buffer.byteLength(typeof entry === 'string' ? Buffer.from(entry) : entry),
        encode: () => {
          sink ^= encodeEntry(c.serializer, value, CREATED, 600_000).length;
        },
        // What a hit does: the value only (no stale windows), from what the store hands back.
        decode: () => {
          sink ^= decodeEntry(c.serializer, raw, false) === undefined ? 1 : 0;
        },
        encodeUs: [],
        decodeUs: [],
      };
    });
    for (let r = 0; r < ROUNDS + 2; r++) {
      for (const w of r % 2 ? [...work].reverse() : work) {
        const e = round(w.encode);
        const d = round(w.decode);
        if (r >= 2) {
          w.encodeUs.push(e);
          w.decodeUs.push(d);
        }
      }
    }
    for (const w of work) rows.push({ value: name, codec: w.codec, compression: w.compression, bytes: w.bytes, encodeUs: median(w.encodeUs), decodeUs: median(w.decodeUs) });
  }
  return rows;
}

const fixed = (us) => (us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0));

/** The rows as a Markdown table. */
export function renderCodecs(rows) {
  const lines = ['| value | codec | compression | encode µs | decode µs | stored bytes |', '| --- | --- | --- | ---: | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.value} | ${r.codec} | ${r.compression} | ${fixed(r.encodeUs)} | ${fixed(r.decodeUs)} | ${r.bytes.toLocaleString('en-US')} |`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../dist/esm/', import.meta.url));
  const rows = await measureCodecs(dir);
  console.log(`Node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms per case; bytes are the whole entry (header + payload)\n`);
  console.log(renderCodecs(rows));
  if (sink === 0.5) console.log(sink);
}
