/**
 * `cachette/otel`: OpenTelemetry spans and metrics for cachette, made from its
 * `node:diagnostics_channel` events. Needs `@opentelemetry/api` (an optional peer dependency) and
 * an SDK you set up as usual; cachette itself never imports either.
 *
 * OpenTelemetry has no semantic conventions for caches yet; the names follow what existing cache
 * instrumentations and APM tools read (`cache.hit`, `cache.operation`, `cache.ttl`), under `cache.*`.
 * No span or metric carries an argument, a key or a value: a key hash at most (`cache.key_hash`).
 * @module cachette/otel
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  ValueType,
  type Attributes,
  type Meter,
  type MeterProvider,
  type ObservableResult,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { BREAKER_CHANNEL, CALL_CHANNEL, INVALIDATE_CHANNEL, type BreakerEvent, type CallEvent, type InvalidateEvent } from '../observe.js';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where spans go. @defaultValue the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /** Where metrics go. @defaultValue the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
  /** Make a span per call. @defaultValue true */
  spans?: boolean;
  /** Record metrics. @defaultValue true */
  metrics?: boolean;
}

/** What {@link instrument} returns. */
export interface Instrumentation {
  /** Stop listening: no more spans or metric records (instruments already created stay with their meter). */
  disable(): void;
}

/** The instrumentation scope name of cachette's tracer and meter. */
export const SCOPE = 'cachette';

/** The metric names, for dashboards and alerts. */
export const METRICS = {
  /** Counter: calls, by `cache.function`, `cache.status` (hit, stale, miss, coalesced, bypass, refresh, error) and `cache.tier`. Hit ratio: `status=hit` over all. */
  requests: 'cache.requests',
  /** Histogram (s): how long calls took, by `cache.function` and `cache.status`. */
  requestDuration: 'cache.request.duration',
  /** Histogram (s): how long the origin took, for calls that ran or joined an origin run, by `cache.function`. */
  originDuration: 'cache.origin.duration',
  /** Counter: calls that rejected, by `cache.function` and `error.type` (the error's name). */
  errors: 'cache.errors',
  /** Counter: invalidations, by `cache.invalidation.scope` (key, function, namespace, tags) and `cache.invalidation.ok`. */
  invalidations: 'cache.invalidations',
  /** Gauge: each store's circuit breaker, 0 closed, 1 half-open, 2 open, by `cache.store` and `cache.namespace` (reported once it has changed). */
  breakerState: 'cache.breaker.state',
} as const;

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Subscribe to cachette's diagnostics channels and turn them into OpenTelemetry spans and metrics.
 * Call it once at start-up, after your SDK is set up. Calls made while nothing subscribes cost
 * nothing extra; with it, each call gets one span (`cache.get <function name>`, a child of the
 * span active when the call was made) and a few metric records.
 *
 * @example
 * ```ts
 * import { instrument } from 'cachette/otel';
 * const otel = instrument(); // global providers; or instrument({ tracerProvider, meterProvider })
 * // … on shutdown
 * otel.disable();
 * ```
 */
export function instrument(options: InstrumentOptions = {}): Instrumentation {
  const undo: Array<() => void> = [];
  const tracer: Tracer | undefined = options.spans === false ? undefined : (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter: Meter | undefined = options.metrics === false ? undefined : (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);

  const requests = meter?.createCounter(METRICS.requests, { description: 'Cached-function calls by outcome (cache.status) and the tier that answered (cache.tier)', unit: '{call}', valueType: ValueType.INT });
  const requestDuration = meter?.createHistogram(METRICS.requestDuration, { description: 'Duration of cached-function calls', unit: 's' });
  const originDuration = meter?.createHistogram(METRICS.originDuration, { description: 'Duration of origin runs (the wrapped function)', unit: 's' });
  const errors = meter?.createCounter(METRICS.errors, { description: 'Cached-function calls that rejected', unit: '{call}', valueType: ValueType.INT });
  const invalidations = meter?.createCounter(METRICS.invalidations, { description: 'Invalidations (f.invalidate, f.clear, cache.clear, cache.invalidateTags)', unit: '{invalidation}', valueType: ValueType.INT });

  // Spans and start times by call: the call's context object is the same in every event.
  const open = new WeakMap<object, { span: Span | undefined; startedAt: number }>();
  const calls = tracingChannel<CallEvent, CallEvent>(CALL_CHANNEL);
  const handlers = {
    start(event: CallEvent): void {
      const span = tracer?.startSpan(`cache.get ${event.name}`, { kind: SpanKind.INTERNAL, attributes: { 'cache.operation': 'get', 'cache.function': event.name, 'cache.key_hash': event.keyHash } }, context.active());
      open.set(event, { span, startedAt: performance.now() });
    },
    end(): void {},
    asyncStart(): void {},
    error(event: CallEvent): void {
      const opened = open.get(event);
      const error = event.error;
      const type = error instanceof Error ? error.name : typeof error;
      errors?.add(1, { 'cache.function': event.name, 'error.type': type });
      if (opened?.span === undefined) return;
      if (error instanceof Error) opened.span.recordException(error);
      opened.span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      opened.span.setAttribute('error.type', type);
    },
    asyncEnd(event: CallEvent): void {
      const opened = open.get(event);
      if (opened === undefined) return;
      open.delete(event);
      const seconds = (performance.now() - opened.startedAt) / 1000;
      const attributes: Attributes = { 'cache.function': event.name, 'cache.status': event.status, 'cache.tier': event.tier };
      requests?.add(1, attributes);
      requestDuration?.record(seconds, { 'cache.function': event.name, 'cache.status': event.status });
      if (event.originMs !== undefined) originDuration?.record(event.originMs / 1000, { 'cache.function': event.name });
      const span = opened.span;
      if (span === undefined) return;
      span.setAttributes({
        // Served from the cache without waiting for the origin (RFC 9211's `hit`): fresh, or stale while it refreshes.
        'cache.hit': (event.status === 'hit' || event.status === 'stale') && !event.forwarded,
        'cache.status': event.status,
        'cache.tier': event.tier,
        'cache.lock_wait': event.lockWait,
      });
      if (event.ttl !== undefined && Number.isFinite(event.ttl)) span.setAttribute('cache.ttl', Math.floor(event.ttl / 1000));
      if (event.age !== undefined) span.setAttribute('cache.age', Math.floor(event.age / 1000));
      span.end();
    },
  };
  calls.subscribe(handlers);
  undo.push(() => calls.unsubscribe(handlers));

  if (invalidations !== undefined) {
    const onInvalidate = (message: unknown): void => {
      const event = message as InvalidateEvent;
      invalidations.add(1, { 'cache.invalidation.scope': event.scope, 'cache.invalidation.ok': event.ok });
    };
    channel(INVALIDATE_CHANNEL).subscribe(onInvalidate);
    undo.push(() => channel(INVALIDATE_CHANNEL).unsubscribe(onInvalidate));
  }

  if (meter !== undefined) {
    // The last state published per store and namespace; a breaker that never changed is not reported.
    const breakers = new Map<string, BreakerEvent>();
    const onBreaker = (message: unknown): void => {
      const event = message as BreakerEvent;
      breakers.set(`${event.store}\u0000${event.namespace ?? ''}`, event);
    };
    channel(BREAKER_CHANNEL).subscribe(onBreaker);
    undo.push(() => channel(BREAKER_CHANNEL).unsubscribe(onBreaker));
    const gauge = meter.createObservableGauge(METRICS.breakerState, { description: 'Circuit breaker state: 0 closed, 1 half-open, 2 open', valueType: ValueType.INT });
    const observe = (result: ObservableResult): void => {
      for (const event of breakers.values()) result.observe(BREAKER_VALUE[event.state], { 'cache.store': event.store, 'cache.namespace': event.namespace ?? '' });
    };
    gauge.addCallback(observe);
    undo.push(() => gauge.removeCallback(observe));
  }

  return {
    disable() {
      for (const step of undo.splice(0)) step();
    },
  };
}
