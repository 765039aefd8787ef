/**
 * Tests that run the built package (`dist/`, imported as 'cachette' by child scripts) build it first
 * when it is missing or older than `lib/`. CI builds just before testing, so there this is a check.
 *
 * jest runs test files in parallel workers, and `npm run build` starts with `rm -rf dist`: two
 * workers building at once would hand a child half a build. So one worker builds at a time, under a
 * lock directory (mkdir is atomic), and the others wait for it and then find the build fresh.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const builtEntry = join(root, 'dist', 'esm', 'index.js');
const lockDir = join(root, 'node_modules', '.cache', 'cachette-test-build.lock');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 5 * 60_000;

/** Newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  try {
    return statSync(builtEntry).mtimeMs >= newestMtime(join(root, 'lib'));
  } catch {
    return false; // not built yet
  }
}

function tryLock(): boolean {
  mkdirSync(join(lockDir, '..'), { recursive: true });
  try {
    mkdirSync(lockDir);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lockDir).mtimeMs > STALE_LOCK_MS) rmSync(lockDir, { recursive: true, force: true });
    } catch {
      // released meanwhile
    }
    return false;
  }
}

/** Build unless dist/ is newer than every file in lib/. */
export async function ensureBuilt(): Promise<void> {
  while (!isFresh()) {
    if (!tryLock()) {
      await new Promise((done) => setTimeout(done, 250));
      continue;
    }
    try {
      if (isFresh()) return;
      await new Promise<void>((done, fail) => {
        execFile('npm', ['run', 'build', '--silent'], { cwd: root, timeout: 150_000 }, (error, _stdout, stderr) =>
          error ? fail(new Error(`npm run build failed: ${stderr || error.message}`)) : done(),
        );
      });
      return; // built from the lib/ of this moment, even if someone edits lib/ while it ran
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  }
}

/**
 * For a test file that runs the built package against a server: build the package and start the
 * server (`startRedis`, `startCluster`, `startSentinel`) before its tests, stop the server after them.
 * Returns the server: call it inside the tests, once `beforeAll` has run.
 */
export function builtWith<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => T {
  let server: T | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    server = await start();
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => server as T;
}

/**
 * For a test file whose child scripts import the built package by name: build it, and make a
 * temporary directory (named after `prefix`) whose `node_modules/cachette` links to this package,
 * removed after the file's tests. Returns the directory: call it once `beforeAll` has run.
 */
export function linkedBuild(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), prefix));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'cachette'), 'dir');
  }, 180_000);
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return () => dir as string;
}
