import { type LineWriter, logEvent } from '../contract/logEvents.ts';
import type { Database } from '../platform/database/Database.ts';
import type { HeldReservation, InventoryClient } from './gateways/InventoryClient.ts';
import type { GatewayCharge, PaymentGateway } from './gateways/PaymentGateway.ts';
import { isUuid } from './ids.ts';
import type { Breach } from './reconcile.ts';

/**
 * What a repair does to settle what a lost commit left (a failover with asynchronous replication, a
 * restore): the gateway and the inventory kept facts the checkout database no longer has.
 */
export type RepairAction =
  | {
      kind: 'refund_charge';
      chargeId: string;
      attemptId: string | undefined;
      amountCents: number;
      reason: string;
    }
  | { kind: 'release_reservation'; reservationId: string; reason: string };

/** A breach the repair leaves as it is, and why. */
export interface LeftBreach extends Breach {
  why: string;
}

export interface RepairPlan {
  actions: RepairAction[];
  left: LeftBreach[];
}

/** An attempt as the repair judges it: where it stands, and whether someone still works on it. */
export interface AttemptState {
  phase: string;
  /** Its lease runs: a request or a recovery worker holds it now. */
  inLease: boolean;
  /** Failed with recovery's second look for a late charge still to come (that look refunds it). */
  recheckPending: boolean;
  /** The charge it completed with (or recorded), if any. */
  chargeId: string | null;
}

/** What the repair decides on, read in this order: gateway and inventory first, then the database. */
export interface RepairFacts {
  charges: GatewayCharge[];
  /** The charge id of every order. */
  orderCharges: Set<string>;
  /** Reservations the inventory holds as `reserved`. */
  reservations: HeldReservation[];
  /** The attempts the charges and reservations name, by id; one not here is gone. */
  attempts: Map<string, AttemptState>;
  /** What reconcile found: those no action settles are left, with the reason. */
  breaches: Breach[];
}

const OPEN_PHASES = new Set(['started', 'stock_reserved', 'payment_pending', 'charged']);

/**
 * Decides what to do, as recovery would and never more. A paid charge with no order is refunded when
 * its attempt is gone (an order made from it would invent its items: the cart may have changed, and
 * the attempt held the only copy of what was bought), failed (nothing will complete it), or completed
 * with another charge (it is a second one). An attempt still open keeps its charge: the recovery
 * worker of any instance makes its order from it. A reservation still held for an attempt that is gone
 * or failed is released; one of an open or completed attempt is the checkout's to commit or release.
 * Nothing here commits stock, so none is committed twice.
 */
export function planRepair(facts: RepairFacts): RepairPlan {
  const actions: RepairAction[] = [];
  const refunded = new Set<string>();
  for (const charge of facts.charges) {
    if (charge.status !== 'succeeded' || charge.refunded || facts.orderCharges.has(charge.id)) continue;
    const attempt = charge.attemptId ? facts.attempts.get(charge.attemptId) : undefined;
    const reason = refundReason(attempt, charge.id);
    if (!reason) continue;
    actions.push({
      kind: 'refund_charge',
      chargeId: charge.id,
      attemptId: charge.attemptId,
      amountCents: charge.amount,
      reason,
    });
    refunded.add(charge.id);
  }
  for (const reservation of facts.reservations) {
    if (reservation.status !== 'reserved') continue;
    const attempt = facts.attempts.get(reservation.reservationId);
    if (attempt && attempt.phase !== 'failed') continue;
    actions.push({
      kind: 'release_reservation',
      reservationId: reservation.reservationId,
      reason: attempt ? 'its attempt failed' : 'no attempt holds it',
    });
  }
  const left = facts.breaches
    .filter((b) => !(b.chargeId && refunded.has(b.chargeId)))
    .map((b) => ({ ...b, why: LEFT_BECAUSE[b.kind] ?? 'not a lost commit: see the runbook' }));
  return { actions, left };
}

/** Why a paid charge with no order is refunded; undefined when it is not the repair's to refund. */
function refundReason(attempt: AttemptState | undefined, chargeId: string): string | undefined {
  if (!attempt) return 'its attempt is gone: no order can be made of it';
  if (attempt.phase === 'failed') return attempt.recheckPending ? undefined : 'its attempt failed';
  // Completed with this very charge after the orders were read: its order stands (it is not lost).
  if (attempt.phase === 'completed')
    return attempt.chargeId === chargeId ? undefined : 'its attempt completed with another charge';
  // Open: in its lease someone works on it; past it, recovery makes the order.
  return OPEN_PHASES.has(attempt.phase) ? undefined : `its attempt is in an unknown phase ${attempt.phase}`;
}

/** Why each kind of breach that no action settles is left to something else. */
const LEFT_BECAUSE: Record<string, string> = {
  charge_without_order: 'its attempt is open: the recovery worker makes its order',
  attempt_unsettled: 'the recovery worker of a running instance settles it',
  stock_not_committed: 'the recovery worker of a running instance commits it',
  stock_not_released: 'the recovery worker of a running instance releases it',
  stock_not_conserved: 'the inventory needs its own recount',
  negative_stock: 'the inventory needs its own recount',
  order_without_charge: 'an order stands whose charge is not: a person decides',
  amount_mismatch: 'an order and its charge disagree: a person decides',
  refunded_charge_with_order: 'an order stands whose charge was refunded: a person decides',
  charge_with_many_orders: 'one charge pays for many orders: a person decides',
  double_charge: 'an attempt was charged twice: a person decides',
};

/**
 * Reads what the plan is made of. The gateway and the inventory are read before the database: an
 * attempt is recorded before its reservation and its charge, and its order in the commit that closes
 * it, so a checkout under way is never judged lost (its attempt, read after, is there).
 */
export async function gatherRepairFacts(deps: {
  db: Pick<Database, 'query'>;
  inventory: Pick<InventoryClient, 'reservations'>;
  payment: Pick<PaymentGateway, 'allCharges'>;
  breaches: Breach[];
}): Promise<RepairFacts> {
  const charges: GatewayCharge[] = [];
  for await (const charge of deps.payment.allCharges()) charges.push(charge);
  const reservations: HeldReservation[] = [];
  for await (const reservation of deps.inventory.reservations('reserved')) reservations.push(reservation);
  const orderCharges = new Set(
    (await deps.db.query<{ charge_id: string }>('SELECT charge_id FROM orders')).rows.map((r) => r.charge_id),
  );
  const named = new Set(
    [
      ...charges.filter((c) => !orderCharges.has(c.id)).map((c) => c.attemptId ?? ''),
      ...reservations.map((r) => r.reservationId),
    ].filter(isUuid),
  );
  const rows = (
    await deps.db.query<{
      id: string;
      phase: string;
      in_lease: boolean;
      recheck_pending: boolean;
      charge_id: string | null;
    }>(
      `SELECT id, phase, locked_until > now() AS in_lease, recheck_charge_after IS NOT NULL AS recheck_pending,
              charge_id
       FROM checkout_attempts WHERE id = ANY($1::uuid[])`,
      [[...named]],
    )
  ).rows;
  const attempts = new Map(
    rows.map((r) => [
      r.id,
      { phase: r.phase, inLease: r.in_lease, recheckPending: r.recheck_pending, chargeId: r.charge_id },
    ]),
  );
  return { charges, orderCharges, reservations, attempts, breaches: deps.breaches };
}

/** One line for a person: what the action does, to what, and why. */
export function describeAction(action: RepairAction): string {
  if (action.kind === 'refund_charge') {
    return `refund charge ${action.chargeId} (attempt ${action.attemptId ?? '?'}, ${action.amountCents}): ${action.reason}`;
  }
  return `release reservation ${action.reservationId}: ${action.reason}`;
}

export type ActionOutcome =
  | { action: RepairAction; done: true }
  | { action: RepairAction; done: false; error: Error };

/**
 * Carries the plan out, one action at a time, each logged. Both are idempotent at their end (a refund
 * under its own key, `refund-<charge id>`; a release that only moves a reservation still `reserved`),
 * so a run that stops half-way is finished by the next one, and a second run finds nothing to do.
 */
export async function applyRepair(
  actions: RepairAction[],
  deps: {
    inventory: Pick<InventoryClient, 'release'>;
    payment: Pick<PaymentGateway, 'refund'>;
    log: LineWriter;
  },
): Promise<ActionOutcome[]> {
  const outcomes: ActionOutcome[] = [];
  for (const action of actions) {
    try {
      if (action.kind === 'refund_charge') await deps.payment.refund(action.chargeId);
      else await deps.inventory.release(action.reservationId);
      logEvent(deps.log, 'warn', 'reconcile_repaired', fieldsOf(action));
      outcomes.push({ action, done: true });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      logEvent(deps.log, 'error', 'reconcile_repair_failed', {
        ...fieldsOf(action),
        errorClass: failure.constructor.name,
        failure: failure.message,
      });
      outcomes.push({ action, done: false, error: failure });
    }
  }
  return outcomes;
}

function fieldsOf(action: RepairAction) {
  return action.kind === 'refund_charge'
    ? {
        action: action.kind,
        chargeId: action.chargeId,
        ...(action.attemptId ? { attemptId: action.attemptId } : {}),
        amountCents: action.amountCents,
        reason: action.reason,
      }
    : { action: action.kind, reservationId: action.reservationId, reason: action.reason };
}
