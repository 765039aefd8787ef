/**
 * Run a recipe of examples/recipes/ as a reader would (`node examples/recipes/<file>`), against the
 * built package: build it first (`builtWith()` or `ensureBuilt()` of `helpers/build.ts`). Each
 * recipe uses Redis when REDIS_URL is set and the memory store otherwise, so the environment is
 * built here rather than inherited as is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/** What a finished recipe printed, and how it exited. */
export interface RecipeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** This process's environment without REDIS_URL, plus `env` (set REDIS_URL there to use Redis). */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.REDIS_URL;
  return { ...base, ...env };
}

function spawnRecipe(file: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(root, 'examples', 'recipes', file)], {
    cwd: root,
    env: environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collect a child's output until it exits; rejects if it runs longer than `limitMs` (then killed). */
function collect(child: ChildProcess, file: string, limitMs: number, onStdout?: (stdout: string) => void): Promise<RecipeRun> {
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${file} did not exit within ${limitMs} ms\n${stdout}\n${stderr}`));
    }, limitMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, lines: stdout.split('\n').filter((line) => line !== '') });
    });
  });
}

/** Run a recipe that does its work and exits; resolves with what it printed (bounded: 30 s). */
export function runRecipe(file: string, env: Record<string, string> = {}): Promise<RecipeRun> {
  return collect(spawnRecipe(file, env), file, 30_000);
}

/** A recipe that serves HTTP until stopped. */
export interface RecipeServer {
  readonly port: number;
  /** SIGTERM, then what it printed and how it exited. */
  stop(): Promise<RecipeRun>;
}

/**
 * Start a server recipe with PORT=0 and resolve once it printed `listening on http://127.0.0.1:<port>`;
 * rejects if it exits first or takes more than 30 s.
 */
export function startRecipeServer(file: string, env: Record<string, string> = {}): Promise<RecipeServer> {
  const child = spawnRecipe(file, { ...env, PORT: '0' });
  return new Promise((ready, fail) => {
    let started = false;
    const finished = collect(child, file, 60_000, (stdout) => {
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
      if (port === undefined || started) return;
      started = true;
      ready({
        port: Number(port),
        stop() {
          child.kill('SIGTERM');
          return finished;
        },
      });
    });
    finished.then(
      (run) => started || fail(new Error(`${file} exited (${run.code ?? run.signal}) before listening\n${run.stdout}\n${run.stderr}`)),
      (error: unknown) => started || fail(error),
    );
  });
}
