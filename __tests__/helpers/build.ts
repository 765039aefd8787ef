/**
 * Tests that run the built package (`dist/`, imported as 'cachette' by child scripts) build it first
 * when it is missing or older than `lib/`. CI builds just before testing, so there this is a check.
 *
 * jest runs test files in parallel workers, and `npm run build` starts with `rm -rf dist`: two
 * workers building at once would hand a child half a build. So one worker builds at a time, under a
 * lock directory (mkdir is atomic), and the others wait for it and then find the build fresh.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
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
