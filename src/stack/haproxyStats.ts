/** Each row of HAProxy's statistics (its stats page's CSV) by column name: pxname, svname, status, slim... */
export async function haproxyStats(statsUrl: string): Promise<Record<string, string>[]> {
  const csv = await (await fetch(`${statsUrl}/;csv`, { signal: AbortSignal.timeout(1000) })).text();
  const [header = '', ...rows] = csv.replace(/^# /, '').trim().split('\n');
  const columns = header.split(',');
  return rows.map((row) => {
    const cells = row.split(',');
    return Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? '']));
  });
}

/** The servers of `backend` HAProxy routes to now. */
export async function serversUp(statsUrl: string, backend: string): Promise<string[]> {
  return (
    (await haproxyStats(statsUrl))
      .filter((row) => row.pxname === backend && !['FRONTEND', 'BACKEND'].includes(row.svname ?? ''))
      // `UP 1/2`, a server whose checks began to fail, still takes connections until it is DOWN.
      .filter((row) => row.status?.startsWith('UP'))
      .map((row) => row.svname ?? '')
  );
}
