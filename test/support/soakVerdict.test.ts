import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SOAK_RETENTION as BOUND, growthPerRequest } from './soakVerdict.ts';

test('a heap that swings around a level has no growth, however many requests', () => {
  const samples = Array.from({ length: 20 }, (_, i) => [i * 1000, 40 + (i % 2 ? 3 : -3)] as const);
  const verdict = growthPerRequest(samples, BOUND);
  assert.ok(Math.abs(verdict.growthMb) < 1, `growth ${verdict.growthMb}`);
  assert.equal(verdict.requests, 19_000);
  assert.equal(verdict.allowedMb, BOUND.floorMb + 19 * BOUND.perThousandRequestsMb);
});

test('a kilobyte kept per request fails on a slower machine and on a faster one alike', () => {
  for (const requestsPerSample of [1000, 3000, 10_000]) {
    const samples = Array.from(
      { length: 12 },
      (_, i) => [i * requestsPerSample, 40 + (i * requestsPerSample) / 1024 + (i % 2)] as const,
    );
    const verdict = growthPerRequest(samples, BOUND);
    const expected = (11 * requestsPerSample) / 1024;
    assert.ok(Math.abs(verdict.growthMb - expected) < 1.5, `${verdict.growthMb} ≈ ${expected}`);
    // Judged per request: slower or faster, the fitted rate is about 1 MB per 1000 requests.
    assert.ok(Math.abs(verdict.perThousandMb - 1000 / 1024) < 0.15, `rate ${verdict.perThousandMb}`);
    assert.ok(verdict.growthMb > verdict.allowedMb, `judged a leak at ${requestsPerSample} per sample`);
  }
});

test('one high sample moves the fitted line less than it moves the last point', () => {
  const samples = [...Array.from({ length: 10 }, (_, i) => [i * 500, 40] as const), [5000, 52] as const];
  const verdict = growthPerRequest(samples, BOUND);
  assert.equal(verdict.last - verdict.first, 12);
  assert.ok(verdict.growthMb < (verdict.last - verdict.first) / 2, `fitted ${verdict.growthMb}`);
});

test('with no request served in between, the plain difference is judged against the floor', () => {
  const verdict = growthPerRequest(
    [
      [300, 40],
      [300, 49],
    ],
    BOUND,
  );
  assert.equal(verdict.requests, 0);
  assert.equal(verdict.growthMb, 9);
  assert.equal(verdict.allowedMb, BOUND.floorMb);
  assert.throws(() => growthPerRequest([], BOUND), /no samples/);
});
