import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GatewayCharge } from './gateways/PaymentGateway.ts';
import { type AttemptState, planRepair, type RepairFacts } from './repair.ts';

const ATTEMPT = {
  gone: '00000000-0000-4000-8000-000000000001',
  failed: '00000000-0000-4000-8000-000000000002',
  rechecking: '00000000-0000-4000-8000-000000000003',
  open: '00000000-0000-4000-8000-000000000004',
  working: '00000000-0000-4000-8000-000000000005',
  completed: '00000000-0000-4000-8000-000000000006',
};

const states: Record<string, AttemptState> = {
  [ATTEMPT.failed]: { phase: 'failed', inLease: false, recheckPending: false, chargeId: null },
  [ATTEMPT.rechecking]: { phase: 'failed', inLease: false, recheckPending: true, chargeId: null },
  [ATTEMPT.open]: { phase: 'started', inLease: false, recheckPending: false, chargeId: null },
  [ATTEMPT.working]: { phase: 'started', inLease: true, recheckPending: false, chargeId: null },
  [ATTEMPT.completed]: { phase: 'completed', inLease: false, recheckPending: false, chargeId: 'pi_first' },
};

const charge = (id: string, attemptId: string | undefined, extra: Partial<GatewayCharge> = {}) => ({
  id,
  status: 'succeeded',
  refunded: false,
  amount: 1200,
  attemptId,
  ...extra,
});

const facts = (over: Partial<RepairFacts>): RepairFacts => ({
  charges: [],
  orderCharges: new Set(),
  reservations: [],
  attempts: new Map(Object.entries(states)),
  breaches: [],
  ...over,
});

const held = (reservationId: string, status = 'reserved') => ({
  reservationId,
  status,
  expiresAt: '2026-12-03T00:00:00.000Z',
  items: [{ sku: 'sku_mug', quantity: 1 }],
});

describe('repair plan: what a lost commit left, settled as recovery would', () => {
  test('a paid charge with no order is refunded when its attempt is gone, failed, or paid by another', () => {
    const plan = planRepair(
      facts({
        charges: [
          charge('pi_gone', ATTEMPT.gone),
          charge('pi_stray', undefined),
          charge('pi_failed', ATTEMPT.failed),
          charge('pi_second', ATTEMPT.completed),
          charge('pi_first', ATTEMPT.completed),
        ],
        orderCharges: new Set(['pi_first']),
      }),
    );
    assert.deepEqual(
      plan.actions.map((a) => (a.kind === 'refund_charge' ? [a.chargeId, a.reason] : [])),
      [
        ['pi_gone', 'its attempt is gone: no order can be made of it'],
        ['pi_stray', 'its attempt is gone: no order can be made of it'],
        ['pi_failed', 'its attempt failed'],
        ['pi_second', 'its attempt completed with another charge'],
      ],
    );
  });

  test('a charge its attempt completed with after the orders were read is kept: its order stands', () => {
    // The orders were read before the attempt finished; the attempt, read after, names this charge.
    const plan = planRepair(facts({ charges: [charge('pi_first', ATTEMPT.completed)] }));
    assert.deepEqual(plan.actions, []);
  });

  test('a charge is kept when its attempt is open, awaits its second look, or is not paid and settled', () => {
    const plan = planRepair(
      facts({
        charges: [
          charge('pi_open', ATTEMPT.open),
          charge('pi_working', ATTEMPT.working),
          charge('pi_rechecking', ATTEMPT.rechecking),
          charge('pi_refunded', ATTEMPT.gone, { refunded: true }),
          charge('pi_declined', ATTEMPT.gone, { status: 'requires_payment_method' }),
          charge('pi_ordered', ATTEMPT.completed),
        ],
        orderCharges: new Set(['pi_ordered']),
      }),
    );
    assert.deepEqual(plan.actions, []);
  });

  test('a reservation is released when no attempt holds it or its attempt failed, never otherwise', () => {
    const plan = planRepair(
      facts({
        reservations: [
          held(ATTEMPT.gone),
          held('not-an-attempt'),
          held(ATTEMPT.failed),
          held(ATTEMPT.open),
          held(ATTEMPT.working),
          held(ATTEMPT.completed),
          held(ATTEMPT.gone, 'committed'),
        ],
      }),
    );
    assert.deepEqual(
      plan.actions.map((a) => (a.kind === 'release_reservation' ? [a.reservationId, a.reason] : [])),
      [
        [ATTEMPT.gone, 'no attempt holds it'],
        ['not-an-attempt', 'no attempt holds it'],
        [ATTEMPT.failed, 'its attempt failed'],
      ],
    );
  });

  test('the breaches a refund settles are not left; every other one is, with the reason', () => {
    const plan = planRepair(
      facts({
        charges: [charge('pi_gone', ATTEMPT.gone), charge('pi_open', ATTEMPT.open)],
        breaches: [
          { kind: 'charge_without_order', detail: 'pi_gone …', chargeId: 'pi_gone' },
          { kind: 'charge_without_order', detail: 'pi_open …', chargeId: 'pi_open' },
          { kind: 'attempt_unsettled', detail: 'attempt …' },
          { kind: 'something_new', detail: '…' },
        ],
      }),
    );
    assert.deepEqual(
      plan.left.map((b) => [b.kind, b.why]),
      [
        ['charge_without_order', 'its attempt is open: the recovery worker makes its order'],
        ['attempt_unsettled', 'the recovery worker of a running instance settles it'],
        ['something_new', 'not a lost commit: see the runbook'],
      ],
    );
  });

  test('a second plan over the repaired facts has nothing to do', () => {
    const before = facts({
      charges: [charge('pi_gone', ATTEMPT.gone)],
      reservations: [held(ATTEMPT.gone)],
    });
    assert.equal(planRepair(before).actions.length, 2);
    // What the gateway and the inventory say once the plan is carried out.
    const after = facts({
      charges: [charge('pi_gone', ATTEMPT.gone, { refunded: true })],
      reservations: [],
    });
    assert.deepEqual(planRepair(after), { actions: [], left: [] });
  });
});
