/**
 * Turns a function's result into bytes for a store and back.
 *
 * @remarks
 * `deserialize` may throw on foreign or corrupt input: cachette treats that as a miss (the entry is
 * recomputed and overwritten), never as a failed call. `undefined` never reaches a serializer: the
 * entry envelope records it, so every serializer can cache functions that return nothing.
 *
 * A text serializer (the default) returns strings and is handed strings. A serializer that sets
 * `binary: true` may return a `Buffer`/`Uint8Array` and is handed a `Buffer`.
 */
export interface Serializer {
  /**
   * A short, stable name (`[a-z][a-z0-9-]*`, at most 32 characters) written into each entry, so bytes
   * written by another serializer are recognised as foreign and treated as a miss.
   */
  readonly name: string;
  /** `true` when `serialize` may return bytes; the store is then read as bytes. @defaultValue false */
  readonly binary?: boolean;
  /**
   * Encode a value (never `undefined`). Throwing, or returning anything but a string or a
   * `Uint8Array`, keeps the value out of the cache; the call still succeeds. What is logged then names
   * the serializer and the error's type only, never its message or `cause`, which may quote the value.
   */
  serialize(value: unknown): string | Uint8Array;
  /** Decode what `serialize` produced. Throwing makes the entry a miss. */
  deserialize(raw: string | Buffer): unknown;
}

/**
 * @internal The key of a serializer's second form: a serializer that has one writes values its own
 * form would change under the envelope tag `<name>+t` instead of `<name>`, so a reader knows which
 * decoder to use. Only the default JSON serializer has one; it is copied along when that serializer is
 * spread into another object.
 */
export const TAGGED_FORM = Symbol('cachette.taggedForm');

/** @internal What a serializer's second form does (see {@link TAGGED_FORM}). */
export interface TaggedForm {
  /**
   * The text for `value` and whether it is the tagged form.
   * @throws {CacheSerializationError} when neither form keeps `value` as it is; the message names
   * only types and positions.
   */
  encode(value: unknown): { readonly text: string; readonly tagged: boolean };
  /** Read the tagged form back. Throwing makes the entry a miss. */
  decode(text: string): unknown;
}

/** @internal A serializer with a second form. */
export interface TaggedSerializer extends Serializer {
  readonly [TAGGED_FORM]: TaggedForm;
}
