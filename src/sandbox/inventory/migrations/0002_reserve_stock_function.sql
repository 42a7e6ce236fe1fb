-- Up Migration

-- A reservation in one round trip: the row, its items and the stock it takes, or nothing. Stock rows
-- are taken in SKU order (as the batched commit locks them), so two reservations never wait on each
-- other in a cycle. A refusal raises SQLSTATE 'SF001' with the SKU as its detail, which rolls it all back.
-- Idempotent by id: a second call answers the first one's state, whatever it is now.
CREATE FUNCTION reserve_stock(p_id text, p_items jsonb, p_ttl_seconds integer)
RETURNS TABLE (status text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  item record;
BEGIN
  INSERT INTO reservations AS r (id, status, expires_at)
  VALUES (p_id, 'reserved', now() + make_interval(secs => p_ttl_seconds))
  ON CONFLICT (id) DO NOTHING
  RETURNING r.status, r.expires_at INTO status, expires_at;
  IF NOT FOUND THEN
    RETURN QUERY SELECT r.status, r.expires_at FROM reservations r WHERE r.id = p_id;
    RETURN;
  END IF;
  FOR item IN
    SELECT x.sku, sum(x.quantity)::int AS quantity
    FROM jsonb_to_recordset(p_items) AS x(sku text, quantity integer)
    GROUP BY x.sku ORDER BY x.sku
  LOOP
    UPDATE stock s SET available = s.available - item.quantity, reserved = s.reserved + item.quantity, updated_at = now()
    WHERE s.sku = item.sku AND s.available >= item.quantity;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'SF001', DETAIL = item.sku,
        MESSAGE = CASE WHEN EXISTS (SELECT 1 FROM stock s WHERE s.sku = item.sku) THEN 'insufficient' ELSE 'unknown_sku' END;
    END IF;
    INSERT INTO reservation_items (reservation_id, sku, quantity) VALUES (p_id, item.sku, item.quantity);
  END LOOP;
  RETURN NEXT;
END
$$;

-- Down Migration
DROP FUNCTION reserve_stock(text, jsonb, integer);
