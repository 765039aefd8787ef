/**
 * The built package in a plain Node process (one realm, unlike Jest's sandbox): every typed array
 * round-trips through msgpack, and the ESM and CommonJS builds both load msgpackr and read each
 * other's entries.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { linkedBuild } from '../helpers/build.js';

/** Caches every typed array (and a few other types) with `serializer`, then reads it back; prints what differs. */
const program = (load: string, serializer: string) => `
${load}
const { createCache, cached } = m;
const typed = [new Int8Array([-1]), new Uint8Array([1]), new Uint8ClampedArray([2]), new Int16Array([-3]), new Uint16Array([4]),
  new Int32Array([-5]), new Uint32Array([6]), new Float32Array([1.5]), new Float64Array([-0.25]), new BigInt64Array([-7n]),
  new BigUint64Array([8n]), new DataView(new Uint8Array([9]).buffer), new Uint8Array([10]).buffer, Buffer.from('b')];
const cache = createCache({ serializer: '${serializer}', compression: { threshold: 1 } });
const f = cached(async () => ({ typed, at: new Date(5), set: new Set([1n]) }), { cache, name: 'f' });
await f();
const back = await f();
const bytes = (v) => (ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v));
const wrong = back.typed.map((v, i) => (Object.getPrototypeOf(v) === Object.getPrototypeOf(typed[i]) && bytes(v).equals(bytes(typed[i])) ? '' : String(i))).filter(Boolean);
console.log(JSON.stringify({ hits: f.stats.hits, errors: f.stats.errors, wrong, date: back.at instanceof Date, set: back.set.has(1n) }));
await cache.close();
`;

describe('the built serializers in a plain Node process', () => {
  const dir = linkedBuild('cachette-codecs-');

  it.each([
    ['msgpack', 'ESM', "const m = await import('cachette');"],
    ['msgpack', 'CommonJS', "const m = require('cachette');"],
    ['rich', 'ESM', "const m = await import('cachette');"],
  ])('round-trips every typed array with %s from the %s build, compressed', (serializer, _build, load) => {
    const esm = load.includes('import(');
    const source = esm ? program(load, serializer) : `(async () => {${program(load, serializer)}})()`;
    const run = spawnSync(process.execPath, esm ? ['--input-type=module', '-e', source] : ['-e', source], { cwd: dir(), encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ hits: 1, errors: 0, wrong: [], date: true, set: true });
  });
});
