/**
 * Compression of entry payloads above a size threshold, and the markers that record it in the
 * envelope tag (`json+br`, `json+t+df`, `msgpack+zs`).
 *
 * Every process decodes brotli and deflate (both are in every Node's `node:zlib`); zstd only where the
 * running Node has `zlib.zstdDecompressSync` (22.15+, 23.8+). An entry whose compression this process
 * cannot decode is a miss, never an error.
 * @module
 */
import zlib from 'node:zlib';
import { TAGGED_FORM, type Serializer, type TaggedSerializer } from './serializer.js';

/** A compression algorithm for {@link CompressionConfig.algorithm}. */
export type CompressionAlgorithm = 'brotli' | 'deflate' | 'zstd';

/** @internal What a compressing codec was configured with, resolved. */
export interface CompressionSettings {
  /** Payloads of at least this many bytes are compressed. */
  readonly threshold: number;
  readonly algorithm: CompressionAlgorithm;
}

/** @internal The key under which a codec carries its {@link CompressionSettings}. */
export const COMPRESSION = Symbol('cachette.compression');

/** @internal A serializer that compresses large payloads (see {@link compressing}). */
export interface CompressingSerializer extends Serializer {
  readonly [COMPRESSION]: CompressionSettings;
}

/** The marker each algorithm appends to the envelope tag: always `+` and two letters. */
const MARKERS: Readonly<Record<CompressionAlgorithm, string>> = { brotli: '+br', deflate: '+df', zstd: '+zs' };
/** Length of every marker. */
export const MARKER_LENGTH = 3;

/**
 * Brotli quality 1..11: the lowest levels cost about what deflate costs for the same size (see
 * docs/benchmarks.md, "Codecs and compression"); 11, zlib's default, takes 100 ms and more per 100 KB.
 */
const BROTLI_QUALITY = 4;
const DEFLATE_LEVEL = 1;
/**
 * The largest payload a decompression may produce: Redis's own limit for a string. A few bytes that
 * claim to expand past it are corrupt (or hostile), never an entry this library wrote.
 */
const MAX_OUTPUT = 512 * 1024 * 1024;

interface Zstd {
  zstdCompressSync(buffer: Uint8Array): Buffer;
  zstdDecompressSync(buffer: Uint8Array, options: { maxOutputLength: number }): Buffer;
}

/** node:zlib's zstd functions, where this Node has them. */
function zstd(): Zstd | undefined {
  const z = zlib as unknown as Partial<Zstd>;
  return typeof z.zstdCompressSync === 'function' && typeof z.zstdDecompressSync === 'function' ? (z as Zstd) : undefined;
}

/** Whether this Node can compress and decompress `algorithm`. */
export function hasAlgorithm(algorithm: CompressionAlgorithm): boolean {
  return algorithm !== 'zstd' || zstd() !== undefined;
}

/** The tag marker of `algorithm`. */
export function markerOf(algorithm: CompressionAlgorithm): string {
  return MARKERS[algorithm];
}

/** Compress `bytes` with `algorithm` (which this Node has: checked when the cache was created). */
export function compress(algorithm: CompressionAlgorithm, bytes: Uint8Array): Buffer {
  switch (algorithm) {
    case 'brotli':
      return zlib.brotliCompressSync(bytes, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength },
      });
    case 'deflate':
      return zlib.deflateRawSync(bytes, { level: DEFLATE_LEVEL });
    case 'zstd':
      return (zstd() as Zstd).zstdCompressSync(bytes);
  }
}

/**
 * The algorithm a tag's last three characters name (`+br`, `+df`, `+zs`), or `undefined` when the tag
 * ends in no marker.
 */
export function algorithmOf(tag: string): CompressionAlgorithm | undefined {
  if (tag.length <= MARKER_LENGTH || tag.charCodeAt(tag.length - MARKER_LENGTH) !== 43 /* + */) return undefined;
  const marker = tag.slice(-MARKER_LENGTH);
  if (marker === '+br') return 'brotli';
  if (marker === '+df') return 'deflate';
  if (marker === '+zs') return 'zstd';
  return undefined;
}

/**
 * Decompress a payload. `undefined` when this Node lacks the algorithm (zstd on Node 20).
 * @throws on bytes that are not a complete stream of that algorithm, or expand past 512 MiB.
 */
export function decompress(algorithm: CompressionAlgorithm, bytes: Uint8Array): Buffer | undefined {
  switch (algorithm) {
    case 'brotli':
      return zlib.brotliDecompressSync(bytes, { maxOutputLength: MAX_OUTPUT });
    case 'deflate':
      return zlib.inflateRawSync(bytes, { maxOutputLength: MAX_OUTPUT });
    case 'zstd':
      return zstd()?.zstdDecompressSync(bytes, { maxOutputLength: MAX_OUTPUT });
  }
}

/**
 * `serializer` with compression: the same name, form and methods (its entries are read by any cache
 * with the same serializer), plus the settings the entry encoder reads.
 */
export function compressing(serializer: Serializer, settings: CompressionSettings): CompressingSerializer {
  const codec: CompressingSerializer = {
    name: serializer.name,
    binary: serializer.binary,
    serialize: (value) => serializer.serialize(value),
    deserialize: (raw) => serializer.deserialize(raw),
    [COMPRESSION]: settings,
  };
  const form = (serializer as Partial<TaggedSerializer>)[TAGGED_FORM];
  if (form === undefined) return codec;
  const tagged: CompressingSerializer & TaggedSerializer = { ...codec, [TAGGED_FORM]: form };
  return tagged;
}
