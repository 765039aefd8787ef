import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
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
const LEAVES = new Set(['../errors.js', '../duration.js', '../clock.js']);

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
