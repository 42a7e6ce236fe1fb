import pg from 'pg';

export const DEMO_USER_ID = 'usr_demo';

interface DemoProduct {
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
}

/** At least 20 SKUs with stock and one with none (`sku_sold_out`), docs/architecture.md section 10. */
export const DEMO_PRODUCTS: readonly DemoProduct[] = [
  ['sku_tshirt', 'Steadfast T-shirt', 2500, 200],
  ['sku_hoodie', 'Steadfast hoodie', 5900, 100],
  ['sku_mug', 'Enamel mug', 1400, 300],
  ['sku_sticker_pack', 'Sticker pack', 500, 1000],
  ['sku_notebook', 'Dot-grid notebook', 1800, 250],
  ['sku_pen', 'Fountain pen', 4200, 80],
  ['sku_cap', 'Baseball cap', 2200, 150],
  ['sku_tote', 'Canvas tote bag', 1600, 200],
  ['sku_socks', 'Merino socks', 1900, 300],
  ['sku_bottle', 'Steel water bottle', 2900, 150],
  ['sku_keyboard', 'Mechanical keyboard', 14900, 40],
  ['sku_mouse', 'Wireless mouse', 4900, 60],
  ['sku_deskmat', 'Felt desk mat', 3400, 90],
  ['sku_lamp', 'Desk lamp', 7900, 50],
  ['sku_headphones', 'Studio headphones', 19900, 30],
  ['sku_charger', 'USB-C charger', 3900, 120],
  ['sku_cable', 'Braided USB-C cable', 1200, 400],
  ['sku_stand', 'Laptop stand', 5400, 70],
  ['sku_backpack', 'Commuter backpack', 11900, 45],
  ['sku_umbrella', 'Storm umbrella', 3200, 100],
  ['sku_poster', 'Incident-free poster', 900, 500],
  ['sku_sold_out', 'Limited edition pager', 9900, 0],
].map(([sku, name, priceCents, stock]) => ({ sku, name, priceCents, stock }) as DemoProduct);

/**
 * Makes sure the demo catalogue, stock and the demo user's open cart exist. Idempotent: a second
 * `steadfast start` finds them and leaves them alone. Returns the demo user's open cart.
 */
export async function seedDemoData(urls: {
  checkout: string;
  inventory: string;
}): Promise<{ demoCartId: string }> {
  const inventory = new pg.Client({ connectionString: urls.inventory });
  const checkout = new pg.Client({ connectionString: urls.checkout });
  // A connection cut under a query (a failover) rejects the query; unheard, its 'error' event would also
  // end the process.
  for (const client of [inventory, checkout]) client.on('error', () => {});
  await Promise.all([inventory.connect(), checkout.connect()]);
  try {
    for (const p of DEMO_PRODUCTS) {
      await inventory.query(
        'INSERT INTO stock (sku, initial, available) VALUES ($1, $2, $2) ON CONFLICT (sku) DO NOTHING',
        [p.sku, p.stock],
      );
      await checkout.query(
        'INSERT INTO products (sku, name, price_cents) VALUES ($1, $2, $3) ON CONFLICT (sku) DO NOTHING',
        [p.sku, p.name, p.priceCents],
      );
    }
    const open = await checkout.query<{ id: string }>(
      `SELECT id FROM carts WHERE user_id = $1 AND status = 'open' ORDER BY created_at LIMIT 1`,
      [DEMO_USER_ID],
    );
    if (open.rows[0]) return { demoCartId: open.rows[0].id };
    const created = await checkout.query<{ id: string }>(
      'INSERT INTO carts (user_id) VALUES ($1) RETURNING id',
      [DEMO_USER_ID],
    );
    const demoCartId = (created.rows[0] as { id: string }).id;
    await checkout.query(
      `INSERT INTO cart_items (cart_id, sku, quantity) VALUES ($1, 'sku_tshirt', 2), ($1, 'sku_mug', 1)`,
      [demoCartId],
    );
    return { demoCartId };
  } finally {
    await Promise.all([inventory.end(), checkout.end()]);
  }
}
