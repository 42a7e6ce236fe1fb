import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outgoingTraceHeaders, runInTrace, startTrace, traceFields } from './traceContext.ts';

test('work without a valid traceparent starts a new trace; ids never repeat across many', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const carrier = i % 2 ? {} : { traceparent: '00-00000000000000000000000000000000-0000000000000001-01' };
    const { trace_id, span_id } = traceFields(startTrace('GET', { carrier }).span);
    assert.match(trace_id, /^[0-9a-f]{32}$/);
    assert.match(span_id, /^[0-9a-f]{16}$/);
    ids.add(trace_id).add(span_id);
  }
  assert.equal(ids.size, 2000);
});

test('a valid traceparent is continued with a span of its own, and calls made inside it carry it on', () => {
  const carrier = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
  const work = startTrace('GET', { carrier });
  const { trace_id, span_id } = traceFields(work.span);
  assert.equal(trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.notEqual(span_id, '00f067aa0ba902b7');
  assert.deepEqual(outgoingTraceHeaders(), {});
  assert.deepEqual(
    runInTrace(work, () => outgoingTraceHeaders()),
    { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${span_id}-01` },
  );
});

test('an unsampled caller stays unsampled on the calls made for it; a new trace is unsampled unexported', () => {
  const unsampled = startTrace('GET', {
    carrier: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
  });
  assert.match(String(runInTrace(unsampled, () => outgoingTraceHeaders()).traceparent), /-00$/);
  const fresh = startTrace('checkout.recover');
  assert.equal(fresh.span.isRecording(), false);
  assert.match(String(runInTrace(fresh, () => outgoingTraceHeaders()).traceparent), /-00$/);
});

test("a caller's tracestate goes on with its trace on the calls made for it, unexported too", () => {
  const work = startTrace('GET /x', {
    carrier: {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=abc',
    },
  });
  const headers = runInTrace(work, () => outgoingTraceHeaders());
  assert.equal(headers.tracestate, 'vendor=abc');
  assert.match(String(headers.traceparent), /^00-4bf92f3577b34da6a3ce929d0e0e4736-/);
});
