/**
 * Loaded before every test file: any unhandled promise rejection fails the test during which it
 * happened, so "never an unhandled rejection" is checked by every suite, not just the fault tests.
 */
import { afterEach } from '@jest/globals';

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
});
