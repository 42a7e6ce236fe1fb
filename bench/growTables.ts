import type pg from 'pg';

/**
 * Gives the checkout database a history: `rows` checked-out carts, each with its completed attempt, its
 * order and an idempotency key younger than the retention (so the purge finds nothing to delete and
 * must not read them all to learn it). Written with generate_series, not through the API.
 * Returns how many orders were added.
 */
export async function growTables(db: pg.Client, rows: number): Promise<number> {
  await db.query('BEGIN');
  await db.query(
    `CREATE TEMP TABLE history ON COMMIT DROP AS
    SELECT g, gen_random_uuid() AS cart_id, gen_random_uuid() AS attempt_id, 'usr_history_' || (g % 5000) AS user_id,
           now() - make_interval(secs => (g % 80000)) AS at
    FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await db.query(`INSERT INTO carts (id, user_id, status, created_at, updated_at, checked_out_at)
    SELECT cart_id, user_id, 'checked_out', at, at, at FROM history`);
  await db.query(`INSERT INTO checkout_attempts
      (id, user_id, cart_id, phase, amount_cents, currency, items, charge_id, stock_committed, locked_until, created_at, updated_at)
    SELECT attempt_id, user_id, cart_id, 'completed', 100, 'usd', '[{"sku":"sku_bench","quantity":1}]',
           'ch_history_' || g, true, at, at, at FROM history`);
  await db.query(`INSERT INTO orders (user_id, cart_id, attempt_id, charge_id, amount_cents, currency, items, created_at)
    SELECT user_id, cart_id, attempt_id, 'ch_history_' || g, 100, 'usd', '[{"sku":"sku_bench","quantity":1}]', at FROM history`);
  await db.query(`INSERT INTO idempotency_keys (user_id, key, request_hash, attempt_id, response_status, response_body, created_at)
    SELECT user_id, 'key_' || g, 'hash', attempt_id, 201, '{}', at FROM history`);
  await db.query('COMMIT');
  return rows;
}
