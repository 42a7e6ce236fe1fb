const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Carts, orders and attempts are named by UUIDs: any other id names nothing, so it is "not found" rather than sent to PostgreSQL. */
export const isUuid = (id: string) => UUID.test(id);
