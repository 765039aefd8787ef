/**
 * A forked Node child for multi-process tests, and the messages it has sent over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** A child process and the messages it has sent. `M` is the union of its message shapes. */
export class Child<M extends { type: string }> {
  readonly process: ChildProcess;
  readonly messages: M[] = [];
  readonly #listeners = new Set<() => void>();
  stderr = '';

  /** Fork `script` with `env` added to this process's; `onMessage` sees each message as it arrives. */
  constructor(script: string, env: Record<string, string>, onMessage?: (message: M) => void) {
    this.process = fork(script, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.process.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.on('message', (message: M) => {
      this.messages.push(message);
      onMessage?.(message);
      for (const listener of this.#listeners) listener();
    });
    this.process.on('exit', () => {
      for (const listener of this.#listeners) listener();
    });
  }

  /** The first message of `type`, waiting for it; rejects if the child exits without sending it. */
  next<T extends M['type']>(type: T): Promise<Extract<M, { type: T }>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.find((m) => m.type === type);
        if (found !== undefined) {
          this.#listeners.delete(check);
          resolve(found as Extract<M, { type: T }>);
        } else if (this.process.exitCode !== null || this.process.signalCode !== null) {
          this.#listeners.delete(check);
          reject(new Error(`child ${this.process.pid} exited (${this.process.exitCode ?? this.process.signalCode}) before sending '${type}'\n${this.stderr}`));
        }
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Send `{ type }` to the child, if it is still connected. */
  send(type: string): void {
    if (this.process.connected) this.process.send({ type });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGKILL');
    await exited;
  }
}
