// Polls /dashboard/data (cumulative counts) and turns successive snapshots into rates and percentiles.
const POLL_MS = 2000;
const WINDOW = 150;
const series = { t: [], rate: [], errors: [], p50: [], p99: [] };
const size = { width: 520, height: 220 };
const traffic = new uPlot(
  {
    title: 'requests/s and 5xx/s',
    ...size,
    series: [{}, { label: 'requests/s', stroke: '#1f6feb' }, { label: '5xx/s', stroke: '#b00020' }],
  },
  [[], [], []],
  document.getElementById('traffic'),
);
const latency = new uPlot(
  {
    title: 'latency (ms)',
    ...size,
    series: [
      {},
      { label: 'p50', stroke: '#1b7a1b', spanGaps: true },
      { label: 'p99', stroke: '#b36b00', spanGaps: true },
    ],
  },
  [[], [], []],
  document.getElementById('latencyChart'),
);
window.dashboard = { traffic, latency, polls: 0 };
let previous;

function quantile(q, buckets) {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0,
    lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === null) return lowerBound * 1000;
      return (
        (lowerBound + (le - lowerBound) * ((rank - lowerCount) / Math.max(count - lowerCount, 1))) * 1000
      );
    }
    lowerBound = le ?? lowerBound;
    lowerCount = count;
  }
  return null;
}

const text = (id, value, cls) => {
  const el = document.getElementById(id);
  el.textContent = value;
  el.className = cls ?? '';
};

// A tile of the service's own (its label and gauge come with the data), made on the first poll.
function serviceTile(tile) {
  const element = document.createElement('div');
  element.className = 'tile';
  const value = document.createElement('b');
  value.id = tile.id;
  element.append(`${tile.label} `, value);
  document.getElementById('tiles').append(element);
}

// Triage's verdict on this instance: why it fails, since when, and what to do first.
function showVerdict(verdict) {
  const section = document.getElementById('verdict');
  if (!verdict) return;
  section.className = `verdict ${verdict.status}`;
  text('verdictHeadline', verdict.headline);
  text('verdictCause', verdict.cause ? `${verdict.category.replaceAll('_', ' ')}: ${verdict.cause}` : '–');
  text('verdictSince', verdict.since ?? '–');
  text('verdictAction', verdict.firstAction ? `${verdict.firstAction} (runbook: ${verdict.runbook})` : '–');
  const missed = verdict.read.notRead.length ? `; not read: ${verdict.read.notRead.join(', ')}` : '';
  text(
    'verdictChecked',
    `checked ${verdict.checkedAt} in ${verdict.tookMs} ms: ${verdict.read.metrics} scrape(s), ${verdict.read.health} health answer(s), ${verdict.read.logLines} log line(s)${missed}`,
    'checked',
  );
}

async function poll() {
  const now = await (await fetch('/dashboard/data', { cache: 'no-store' })).json();
  document.getElementById('title').textContent = now.title;
  if (previous) {
    const seconds = (now.time - previous.time) / 1000;
    const rate = (now.requests - previous.requests) / seconds;
    const errors = (now.errors5xx - previous.errors5xx) / seconds;
    const deltas = now.buckets.map(([le, count], i) => [le, count - (previous.buckets[i]?.[1] ?? 0)]);
    const p50 = quantile(0.5, deltas),
      p99 = quantile(0.99, deltas);
    series.t.push(now.time / 1000);
    series.rate.push(rate);
    series.errors.push(errors);
    series.p50.push(p50);
    series.p99.push(p99);
    for (const values of Object.values(series)) if (values.length > WINDOW) values.shift();
    traffic.setData([series.t, series.rate, series.errors]);
    latency.setData([series.t, series.p50, series.p99]);
    text('rate', rate.toFixed(1));
    const share = rate > 0 ? errors / rate : 0;
    text('errors', `${(share * 100).toFixed(1)} %`, share > 0.01 ? 'bad' : 'good');
    text('latency', p50 === null ? '–' : `${p50.toFixed(0)} / ${p99.toFixed(0)} ms`);
  }
  showVerdict(now.verdict);
  const pool = now.pool;
  if (pool.max)
    text(
      'pool',
      `${pool.active ?? 0}/${pool.max} busy, ${pool.waiting ?? 0} waiting`,
      pool.active / pool.max > 0.8 ? 'warn' : 'good',
    );
  const breakers = Object.entries(now.breakers);
  text(
    'breakers',
    breakers.length ? breakers.map(([name, state]) => `${name} ${state}`).join(', ') : 'none',
    breakers.some(([, s]) => s !== 'CLOSED') ? 'bad' : 'good',
  );
  for (const tile of now.tiles) {
    if (!document.getElementById(tile.id)) serviceTile(tile);
    text(tile.id, tile.value === null ? 'n/a' : String(tile.value), tile.bad ? 'bad' : 'good');
  }
  document.getElementById('recent').replaceChildren(
    ...now.recentErrors.map((e) => {
      const row = document.createElement('tr');
      for (const value of [e.time, e.statusCode, e.error, e.endpoint, e.errorId, e.trace_id]) {
        const cell = document.createElement('td');
        cell.textContent = String(value);
        row.append(cell);
      }
      return row;
    }),
  );
  previous = now;
  window.dashboard.polls++;
}
poll().catch(console.error);
setInterval(() => poll().catch(console.error), POLL_MS);
