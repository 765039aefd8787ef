import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import ts from 'typescript';

const lib = join(__dirname, '..', 'lib');

/** Every module specifier a source imports or re-exports (static, `import type`, `export … from`, dynamic). */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

function sourcesIn(folder: string): Array<{ file: string; imports: string[] }> {
  return readdirSync(join(lib, folder))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => ({ file: `${folder}/${name}`, imports: importsOf(readFileSync(join(lib, folder, name), 'utf8')) }));
}

/** Modules every layer may use: they import nothing from lib themselves. */
const LEAVES = new Set(['../errors.js', '../duration.js', '../clock.js', '../defaults.js']);

/** Imports of a module in a layer folder that reach outside the folder, leaves and packages aside. */
function outsideImports(imports: readonly string[]): string[] {
  return imports.filter((spec) => {
    if (!spec.startsWith('.')) return false; // a package (redis, lru-cache, node:crypto)
    if (LEAVES.has(spec)) return false;
    return !(spec.startsWith('./') && !spec.slice(2).includes('/'));
  });
}

describe('import parsing used by these checks', () => {
  it('finds static, type-only, re-exported, multi-line and dynamic imports, but not comments', () => {
    const source = [
      "import { a } from './same.js';",
      "import type { B } from '../engine.js';",
      "export { c } from '../cache.js';",
      'import {',
      '  d,',
      "} from '../keys.js';",
      "const e = await import('../options.js');",
      "// import { f } from '../commented.js';",
    ].join('\n');
    expect(importsOf(source)).toEqual(['./same.js', '../engine.js', '../cache.js', '../keys.js', '../options.js']);
  });

  it('flags imports outside the folder except the leaves and packages', () => {
    expect(outsideImports(['./store.js', '../errors.js', '../clock.js', '../duration.js', 'redis', 'node:crypto'])).toEqual([]);
    expect(outsideImports(['../engine.js', '../stores/memory.js', './nested/x.js', '../options.js'])).toEqual([
      '../engine.js',
      '../stores/memory.js',
      './nested/x.js',
      '../options.js',
    ]);
  });

  it('sees the imports the store modules really have', () => {
    const memory = sourcesIn('stores').find((s) => s.file === 'stores/memory.ts');
    expect(memory?.imports).toEqual(expect.arrayContaining(['lru-cache', '../clock.js', './store.js']));
  });
});

describe('layering', () => {
  it.each(sourcesIn('stores'))('$file imports nothing outside stores/ but the leaf modules', ({ imports }) => {
    expect(outsideImports(imports)).toEqual([]);
  });

  it.each(sourcesIn('serializers'))('$file imports nothing outside serializers/ but the leaf modules', ({ imports }) => {
    expect(outsideImports(imports)).toEqual([]);
  });

  it('keeps the leaf modules free of lib imports', () => {
    for (const leaf of LEAVES) {
      const imports = importsOf(readFileSync(join(lib, posix.basename(leaf).replace(/\.js$/, '.ts')), 'utf8'));
      expect(imports.filter((spec) => spec.startsWith('.'))).toEqual([]);
    }
  });

  it('keeps the engine off the concrete stores', () => {
    const imports = importsOf(readFileSync(join(lib, 'engine.ts'), 'utf8'));
    expect(imports.filter((spec) => /stores\/(redis|memory)(\.js)?$/.test(spec))).toEqual([]);
    expect(imports).toContain('./stores/store.js');
  });
});

/** Every module under lib/, as a path relative to lib/ (`config/parse.ts`). */
function allModules(): string[] {
  const files = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(join(folder, entry.name)) : entry.name.endsWith('.ts') ? [join(folder, entry.name)] : [],
    );
  return files(lib)
    .map((file) => relative(lib, file).split('\\').join('/'))
    .sort();
}

/** The lib modules `file` imports (type-only imports included: a cycle of types is a cycle of meaning). */
function libImportsOf(file: string): string[] {
  return importsOf(readFileSync(join(lib, file), 'utf8'))
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

/** One import cycle of the graph (as a path that ends where it starts), or `undefined` when it has none. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('import cycles', () => {
  it('finds a cycle when there is one, and none in a tree', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toBeUndefined();
  });

  it('resolves imports of nested modules to lib paths', () => {
    expect(libImportsOf('config/cache-config.ts')).toEqual(expect.arrayContaining(['defaults.ts', 'config/fields.ts', 'stores/store.ts']));
  });

  it('has no import cycle anywhere in lib/ (type-only imports included)', () => {
    const modules = allModules();
    expect(modules).toEqual(expect.arrayContaining(['cache.ts', 'config/resolve.ts', 'stores/redis.ts']));
    const graph = new Map(modules.map((file) => [file, libImportsOf(file)]));
    expect(findCycle(graph)).toBeUndefined();
  });

  it('keeps every default in defaults.ts, and defaults.ts a leaf', () => {
    expect(libImportsOf('defaults.ts')).toEqual([]);
    // No other module spells a default out: they import it.
    for (const file of allModules().filter((f) => f !== 'defaults.ts')) {
      const source = readFileSync(join(lib, file), 'utf8');
      expect({ file, defines: /export const DEFAULT_/.test(source) }).toEqual({ file, defines: false });
    }
  });
});

describe('the optional OpenTelemetry entry (cachette/otel)', () => {
  it('is the only module that imports @opentelemetry/* (an optional peer dependency)', () => {
    const importers = allModules().filter((file) => importsOf(readFileSync(join(lib, file), 'utf8')).some((spec) => spec.startsWith('@opentelemetry/')));
    expect(importers).toEqual(['otel/index.ts']);
  });

  it('reads cachette only through its channels (observe.ts), never the engine or the cache', () => {
    expect(libImportsOf('otel/index.ts')).toEqual(['observe.ts']);
  });
});
