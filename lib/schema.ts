/**
 * Schema validation of cached values: the Standard Schema v1 interface (declared here, so no
 * dependency: zod 4, valibot and others implement it) and the checks the engine runs on every value
 * it serves.
 * @module
 */
import { CacheSchemaError } from './errors.js';

/**
 * Any schema implementing Standard Schema v1 (https://standardschema.dev): an object whose
 * `~standard.validate(value)` answers `{ value }` (the output, possibly transformed) or `{ issues }`,
 * synchronously or as a Promise. zod 4 and valibot schemas are ones.
 */
export interface StandardSchema<Input = unknown, Output = Input> {
  /** The Standard Schema interface: what cachette calls to check a value. */
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The `~standard` property of a {@link StandardSchema}. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** Always `1`. */
  readonly version: 1;
  /** The library that made the schema (`'zod'`). */
  readonly vendor: string;
  /** Check `value`: the output on success, the issues on failure; may answer a Promise. */
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** Carries the input and output types for inference only (absent at run time). */
  readonly types?:
    | {
        /** The type the schema accepts. */
        readonly input: Input;
        /** The type the schema outputs. */
        readonly output: Output;
      }
    | undefined;
}

/** What `validate` answers: `{ value }` when valid, `{ issues }` when not. */
export type StandardResult<Output> =
  | {
      /** The schema's output for a valid value. */
      readonly value: Output;
      /** Absent when the value is valid. */
      readonly issues?: undefined;
    }
  | {
      /** What is wrong with the value (at least one). */
      readonly issues: ReadonlyArray<StandardIssue>;
    };

/** One problem found by a schema. cachette reads only its `path`. */
export interface StandardIssue {
  /** The schema's message (never logged by cachette: it may quote the value). */
  readonly message: string;
  /** Where in the value the problem is: keys, or segments holding a key. */
  readonly path?:
    | ReadonlyArray<
        | PropertyKey
        | {
            /** One key of the path. */
            readonly key: PropertyKey;
          }
      >
    | undefined;
}

/** The type a schema outputs (what a cached function with this `schema` resolves to). */
export type SchemaOutput<S extends StandardSchema> = NonNullable<S['~standard']['types']>['output'];

/** The type a schema accepts (what `migrate` returns). */
export type SchemaInput<S extends StandardSchema> = NonNullable<S['~standard']['types']>['input'];

/** What `migrate` receives besides the old value. */
export interface MigrateInfo {
  /** Dotted paths of the fields that failed the schema (`''` for the value itself). */
  readonly paths: readonly string[];
  /** When the old value was computed (epoch ms, the writer's clock). */
  readonly createdAt: number;
}

/** Turn an entry that fails the schema into a value of the new shape (validated before it is served). */
export type Migrate<Input = unknown> = (old: unknown, info: MigrateInfo) => Input | Promise<Input>;

/** A check's answer: the schema's output, or the paths of the failing fields (an `Invalid`). */
export class Invalid {
  constructor(
    readonly paths: readonly string[],
    /** What `validate` threw, when it threw instead of answering. */
    readonly thrown?: unknown,
  ) {}
}

/** The most paths an error names: enough to see what changed, short enough for a log line. */
const MAX_PATHS = 10;

/**
 * Check `value` against `schema`: the output (the value itself or what the schema made of it), or an
 * {@link Invalid}. Synchronous when the schema is; a throwing `validate` is an `Invalid` too.
 */
export function check(schema: StandardSchema, value: unknown): unknown {
  let result: StandardResult<unknown> | PromiseLike<StandardResult<unknown>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (error) {
    return new Invalid([], error);
  }
  if (typeof (result as { then?: unknown }).then === 'function') {
    return Promise.resolve(result as PromiseLike<StandardResult<unknown>>).then(outcome, (error: unknown) => new Invalid([], error));
  }
  return outcome(result as StandardResult<unknown>);
}

function outcome(result: StandardResult<unknown>): unknown {
  if (typeof result !== 'object' || result === null) return new Invalid([], new TypeError('validate() answered something that is not a result'));
  return result.issues === undefined ? result.value : new Invalid(pathsOf(result.issues));
}

/** The dotted paths of `issues` (`''` for the root), without repeats, at most {@link MAX_PATHS}. */
export function pathsOf(issues: ReadonlyArray<StandardIssue>): string[] {
  const paths: string[] = [];
  if (!Array.isArray(issues)) return paths;
  for (const issue of issues) {
    const segments: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> = issue?.path ?? [];
    const path = segments.map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment)).join('.');
    if (!paths.includes(path)) paths.push(path);
    if (paths.length === MAX_PATHS) break;
  }
  return paths;
}

/** `at id, roles.0` (the value itself: `at the root`), for messages. */
export function describePaths(paths: readonly string[]): string {
  if (paths.length === 0) return 'validate() threw';
  return `at ${paths.map((path) => (path === '' ? 'the root' : path)).join(', ')}`;
}

/** The error a failing check is reported (or, for a fresh result, rejected) with. */
export function schemaError(fn: string, what: string, invalid: Invalid): CacheSchemaError {
  const thrown = invalid.thrown;
  const why = thrown === undefined ? describePaths(invalid.paths) : `validate() threw ${thrown instanceof Error ? thrown.name : typeof thrown}`;
  return new CacheSchemaError(`cachette: ${fn}: ${what} does not match the schema (${why})`, fn, invalid.paths);
}
