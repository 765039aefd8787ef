/**
 * Loaded before every test file:
 * - any unhandled promise rejection fails the test during which it happened, so "never an unhandled
 *   rejection" is checked by every suite, not just the fault tests;
 * - anything written to the console fails the test that wrote it (with what was written), so a green
 *   run stays quiet: give caches a recording logger, and spy on `console` where a test checks output.
 *   Process warnings (`TimeoutOverflowWarning`, `MaxListenersExceededWarning` …) count too.
 */
import { format } from 'node:util';
import { afterAll, afterEach } from '@jest/globals';

const written: string[] = [];
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[method] = (...args: unknown[]): void => {
    written.push(`console.${method}: ${format(...args)}`);
  };
}
const onWarning = (warning: Error): void => {
  written.push(`process warning: ${warning.name}: ${warning.message}`);
};
process.on('warning', onWarning);

/** Throw with what reached the console since the last check. */
function checkConsole(when: string): void {
  if (written.length === 0) return;
  const lines = written.splice(0);
  throw new Error(`console output ${when} (a green run prints nothing: use a recording logger):\n${lines.join('\n')}`);
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);

afterEach(async () => {
  // Let rejections from the test's last microtasks surface first.
  await new Promise((resolve) => setImmediate(resolve));
  if (unhandled.length > 0) {
    const reasons = unhandled.splice(0).map((r) => (r instanceof Error ? `${r.name}: ${r.message}` : String(r)));
    throw new Error(`unhandled promise rejection(s) during this test: ${reasons.join('; ')}`);
  }
  checkConsole('during this test');
});

afterAll(async () => {
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  checkConsole('after the last test of this file');
});
