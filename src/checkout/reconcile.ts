import type { Database } from '../platform/database/Database.ts';
import type { InventoryClient } from './gateways/InventoryClient.ts';
import type { GatewayCharge, PaymentGateway } from './gateways/PaymentGateway.ts';

export interface Breach {
  kind: string;
  detail: string;
  /** The charge a charge's breach is about: what a repair that settles it names. */
  chargeId?: string;
}

export interface ReconcileReport {
  checked: { charges: number; orders: number; skus: number; attempts: number };
  /** Failed attempts whose second look for a late charge is still to come: their charges are not judged yet. */
  awaitingRecheck: number;
  breaches: Breach[];
}

interface OrderRow {
  id: string;
  attempt_id: string;
  charge_id: string;
  amount_cents: number;
}

/**
 * The invariants of docs/architecture.md section 5, checked across the checkout database, the inventory service and
 * the payment gateway: each charge belongs to exactly one confirmed order or is refunded; no order
 * without its charge; one charge per attempt (the gateway's idempotency key) at most; stock never
 * negative and `initial = available + reserved + sold`; no attempt left unsettled past its lease.
 */
export async function reconcile(deps: {
  db: Database;
  inventory: InventoryClient;
  payment: PaymentGateway;
}): Promise<ReconcileReport> {
  const breaches: Breach[] = [];
  const breach = (kind: string, detail: string, chargeId?: string) =>
    breaches.push(chargeId ? { kind, detail, chargeId } : { kind, detail });

  const charges: GatewayCharge[] = [];
  for await (const charge of deps.payment.allCharges()) charges.push(charge);
  const orders = (await deps.db.query<OrderRow>('SELECT id, attempt_id, charge_id, amount_cents FROM orders'))
    .rows;
  const ordersByCharge = Map.groupBy(orders, (o) => o.charge_id);
  const unsettled = (
    await deps.db.query<{ id: string; phase: string; in_lease: boolean; stock_committed: boolean }>(
      `SELECT id, phase, locked_until > now() AS in_lease, stock_committed FROM checkout_attempts
       WHERE phase NOT IN ('completed', 'failed') OR (phase = 'completed' AND NOT stock_committed)
          OR (phase = 'failed' AND stock_release_pending)`,
    )
  ).rows;
  const awaitingRecheck = (
    await deps.db.query<{ id: string }>(
      'SELECT id FROM checkout_attempts WHERE recheck_charge_after IS NOT NULL',
    )
  ).rows.map((r) => r.id);
  const inFlight = new Set([...unsettled.filter((a) => a.in_lease).map((a) => a.id), ...awaitingRecheck]);

  const paid = charges.filter((c) => c.status === 'succeeded');
  for (const charge of paid) {
    const owners = ordersByCharge.get(charge.id) ?? [];
    if (charge.refunded) {
      if (owners.length > 0)
        breach(
          'refunded_charge_with_order',
          `charge ${charge.id} is refunded but order ${owners[0]?.id} stands`,
        );
      continue;
    }
    if (owners.length === 0 && !(charge.attemptId && inFlight.has(charge.attemptId))) {
      breach(
        'charge_without_order',
        `charge ${charge.id} (attempt ${charge.attemptId ?? '?'}, ${charge.amount}) has no order and is not refunded`,
        charge.id,
      );
    }
    if (owners.length > 1)
      breach(
        'charge_with_many_orders',
        `charge ${charge.id} belongs to orders ${owners.map((o) => o.id).join(', ')}`,
      );
  }
  for (const [attemptId, perAttempt] of Map.groupBy(paid, (c) => c.attemptId ?? '')) {
    if (attemptId && perAttempt.length > 1) {
      breach(
        'double_charge',
        `attempt ${attemptId} was charged ${perAttempt.length} times: ${perAttempt.map((c) => c.id).join(', ')}`,
      );
    }
  }

  const chargeById = new Map(charges.map((c) => [c.id, c]));
  for (const order of orders) {
    const charge = chargeById.get(order.charge_id);
    if (charge?.status !== 'succeeded')
      breach('order_without_charge', `order ${order.id} has no succeeded charge (${order.charge_id})`);
    else if (charge.amount !== order.amount_cents) {
      breach(
        'amount_mismatch',
        `order ${order.id} is for ${order.amount_cents} but charge ${charge.id} took ${charge.amount}`,
      );
    }
  }

  const unsettledKinds: Record<string, [kind: string, detail: string]> = {
    completed: ['stock_not_committed', ' but its stock is not committed'],
    failed: ['stock_not_released', ' but its stock is not released'],
  };
  for (const attempt of unsettled.filter((a) => !a.in_lease)) {
    const [kind, detail] = unsettledKinds[attempt.phase] ?? ['attempt_unsettled', ''];
    breach(kind, `attempt ${attempt.id} is ${attempt.phase}${detail} past its lease`);
  }

  const stock = await deps.inventory.stockLevels();
  for (const level of stock) {
    if (level.available < 0 || level.reserved < 0 || level.sold < 0)
      breach('negative_stock', `${level.sku}: ${JSON.stringify(level)}`);
    if (level.initial !== level.available + level.reserved + level.sold) {
      breach(
        'stock_not_conserved',
        `${level.sku}: initial ${level.initial} != available ${level.available} + reserved ${level.reserved} + sold ${level.sold}`,
      );
    }
  }

  return {
    checked: {
      charges: charges.length,
      orders: orders.length,
      skus: stock.length,
      attempts: unsettled.length,
    },
    breaches,
    awaitingRecheck: awaitingRecheck.length,
  };
}
