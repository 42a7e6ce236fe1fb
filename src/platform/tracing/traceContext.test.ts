import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outgoingTraceparent, runInTrace, traceFrom } from './traceContext.ts';

test('a request without a valid traceparent starts a new trace; ids never repeat across many requests', () => {
  const ids = new Set<string>();
  // More than one batch of random bytes: ids drawn across a refill must not repeat either.
  for (let i = 0; i < 1000; i++) {
    const { traceId, spanId } = traceFrom(
      i % 2 ? undefined : '00-00000000000000000000000000000000-0000000000000001-01',
    );
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.match(spanId, /^[0-9a-f]{16}$/);
    ids.add(traceId).add(spanId);
  }
  assert.equal(ids.size, 2000);
});

test('a valid traceparent is continued with a span of its own, and calls made inside it carry it on', () => {
  const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const context = traceFrom(incoming);
  assert.equal(context.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.notEqual(context.spanId, '00f067aa0ba902b7');
  assert.equal(outgoingTraceparent(), undefined);
  assert.equal(
    runInTrace(context, () => outgoingTraceparent()),
    `00-4bf92f3577b34da6a3ce929d0e0e4736-${context.spanId}-01`,
  );
});
