/**
 * `cachette/otel` with the OpenTelemetry SDK's in-memory exporters: one span per call with its
 * outcome, a child of the span active at the call; the metrics by outcome (hit ratio), durations,
 * origin runs, errors, invalidations and breaker state. No span or data point carries an argument,
 * a key or a value.
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BREAKER_CHANNEL, cached, createCache } from '../lib/index.js';
import { instrument, METRICS, type Instrumentation } from '../lib/otel/index.js';
import { deferred, flush } from './helpers/deferred.js';
import { linkedBuild } from './helpers/build.js';
import { fakeClock } from './helpers/fake-clock.js';

const quiet = { warn() {}, error() {} };

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function setup() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const otel: Instrumentation = instrument({ tracerProvider, meterProvider });
  cleanups.push(async () => {
    otel.disable();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  });
  const cache = createCache({ logger: quiet, namespace: 'otel', clock: fakeClock() });
  /** Every data point of `name`, as `attributes → value`. */
  const points = async (name: string): Promise<Array<{ attributes: Record<string, unknown>; value: unknown }>> => {
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    const metric = last?.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((point: DataPoint<unknown>) => ({ attributes: { ...point.attributes }, value: point.value }));
  };
  return { spans, cache, points, otel };
}

describe('cachette/otel spans', () => {
  it('makes one span per call, named for the function, with its outcome, under the active span', async () => {
    const { spans, cache } = setup();
    const getUser = cached(async (id: number) => ({ id, email: `user${id}@example.com` }), { cache, name: 'getUser', ttl: '1m' });
    const parentProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    cleanups.push(() => parentProvider.shutdown());
    const parent = parentProvider.getTracer('test').startSpan('GET /users/:id');
    await context.with(trace.setSpan(context.active(), parent), async () => {
      await getUser(1);
      await getUser(1);
    });
    parent.end();
    const finished = spans.getFinishedSpans();
    const own = finished.filter((span) => span.name.startsWith('cache.get'));
    expect(own.map((span) => [span.name, span.attributes['cache.status'], span.attributes['cache.hit'], span.attributes['cache.tier']])).toEqual([
      ['cache.get getUser', 'miss', false, 'origin'],
      ['cache.get getUser', 'hit', true, 'store'],
    ]);
    for (const span of own) {
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
    }
    expect(own[1]?.attributes['cache.ttl']).toBe(60);
    expect(own[0]?.attributes['cache.key_hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(own.map((span) => span.attributes))).not.toMatch(/example\.com|"1"/);
  });

  it('marks a rejected call as an error span, with the exception recorded', async () => {
    const { spans, cache, points } = setup();
    const f = cached(
      async () => {
        throw new TypeError('bad input');
      },
      { cache, name: 'f' },
    );
    await expect(f()).rejects.toThrow('bad input');
    const [span] = spans.getFinishedSpans();
    expect(span?.status).toEqual({ code: 2, message: 'TypeError' });
    expect(span?.attributes['cache.status']).toBe('error');
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
    expect(await points(METRICS.errors)).toEqual([{ attributes: { 'cache.function': 'f', 'error.type': 'TypeError' }, value: 1 }]);
  });

  it('stops when disabled', async () => {
    const { spans, cache, otel } = setup();
    const f = cached(async () => 1, { cache, name: 'f' });
    otel.disable();
    await f();
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});

describe('cachette/otel metrics', () => {
  it('counts calls by status and tier, so the hit ratio is hits over all', async () => {
    const { cache, points } = setup();
    const f = cached(async (id: number) => id, { cache, name: 'f', ttl: '1m' });
    await f(1);
    await f(1);
    await f(1);
    await f(2, { bypassCache: true });
    const counted = await points(METRICS.requests);
    expect(counted).toEqual(
      expect.arrayContaining([
        { attributes: { 'cache.function': 'f', 'cache.status': 'miss', 'cache.tier': 'origin' }, value: 1 },
        { attributes: { 'cache.function': 'f', 'cache.status': 'hit', 'cache.tier': 'store' }, value: 2 },
        { attributes: { 'cache.function': 'f', 'cache.status': 'bypass', 'cache.tier': 'origin' }, value: 1 },
      ]),
    );
    expect(counted).toHaveLength(3);
  });

  it('records call durations by status and origin durations for the runs', async () => {
    const { cache, points } = setup();
    const gate = deferred<void>();
    const f = cached(
      async (id: number) => {
        await gate.promise;
        return id;
      },
      { cache, name: 'f', ttl: '1m' },
    );
    const first = f(1);
    const joined = f(1);
    await flush();
    gate.resolve();
    await Promise.all([first, joined]);
    await f(1);
    const durations = await points(METRICS.requestDuration);
    expect(durations.map((p) => [p.attributes['cache.status'], (p.value as Histogram).count]).sort()).toEqual([
      ['coalesced', 1],
      ['hit', 1],
      ['miss', 1],
    ]);
    // The miss and the call that joined its run both saw the one origin run.
    const origin = await points(METRICS.originDuration);
    expect(origin.map((p) => [p.attributes, (p.value as Histogram).count])).toEqual([[{ 'cache.function': 'f' }, 2]]);
  });

  it('counts invalidations by scope and reports the breaker state last published', async () => {
    const { cache, points } = setup();
    const f = cached(async (id: number) => id, { cache, name: 'f' });
    await f.invalidate(1);
    await f.clear();
    await cache.invalidateTags(['a']);
    expect((await points(METRICS.invalidations)).map((p) => [p.attributes['cache.invalidation.scope'], p.value]).sort()).toEqual([
      ['function', 1],
      ['key', 1],
      ['tags', 1],
    ]);
    expect(await points(METRICS.breakerState)).toEqual([]);
    channel(BREAKER_CHANNEL).publish({ store: 'redis', state: 'open', namespace: 'otel', consecutiveFailures: 5 });
    expect(await points(METRICS.breakerState)).toEqual([{ attributes: { 'cache.store': 'redis', 'cache.namespace': 'otel' }, value: 2 }]);
    channel(BREAKER_CHANNEL).publish({ store: 'redis', state: 'closed', namespace: 'otel', consecutiveFailures: 0 });
    expect(await points(METRICS.breakerState)).toEqual([{ attributes: { 'cache.store': 'redis', 'cache.namespace': 'otel' }, value: 0 }]);
  });
});

describe('the built cachette/otel subpath', () => {
  const root = join(__dirname, '..');
  const dir = linkedBuild('cachette-otel-');

  it('points every condition of the exports entry at a built file', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; peerDependenciesMeta: Record<string, unknown> };
    const entry = pkg.exports['./otel'] as Record<'import' | 'require', { types: string; default: string }>;
    const targets = [entry.import.types, entry.import.default, entry.require.types, entry.require.default];
    expect(targets.filter((target) => !existsSync(join(root, target)))).toEqual([]);
    expect(pkg.peerDependenciesMeta['@opentelemetry/api']).toEqual({ optional: true });
  });

  it('is found by import and by require from outside the repository, and sees the calls of the built package', () => {
    const script = [
      "const { instrument, METRICS } = require('cachette/otel');",
      "console.log(typeof instrument, METRICS.requests);",
    ].join('\n');
    const cjs = spawnSync(process.execPath, ['-e', script], { cwd: dir(), encoding: 'utf8' });
    const esm = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          "import { channel } from 'node:diagnostics_channel';",
          "const { instrument } = await import('cachette/otel');",
          "const { cached } = await import('cachette');",
          'const seen = [];',
          "const { tracingChannel } = await import('node:diagnostics_channel');",
          "tracingChannel('cachette:call').subscribe({ start() {}, end() {}, asyncStart() {}, asyncEnd: (e) => seen.push(e.status), error() {} });",
          'instrument();',
          "const f = cached(async () => 1, { name: 'f' });",
          'await f(); await f();',
          "console.log(typeof instrument, typeof channel, seen.join(','));",
        ].join('\n'),
      ],
      { cwd: dir(), encoding: 'utf8' },
    );
    expect([cjs.stdout.trim(), cjs.stderr, esm.stdout.trim(), esm.stderr]).toEqual(['function cache.requests', '', 'function function miss,hit', '']);
  });
});
