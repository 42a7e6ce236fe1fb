/**
 * One line of HAProxy's request log, in the `log-format` of the shipped configuration
 * (ops/haproxy/haproxy.cfg, documented field by field in docs/triage.md):
 *
 *   %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r id=<request id>
 *
 * HAProxy's default `option httplog` line (cookies `%CC %CS` after the bytes, captured headers in braces
 * before the request, no id) is read too, as the shipped configuration's stats frontend writes it.
 * Recognised by its shape, not by the file's name. Every field is checked before it is used: a line that
 * starts like one but has a field out of its range is passed over as `bad_field`, never half read.
 */

/** Why HAProxy ended a request, and in which phase: the first two characters of `%tsc`. */
export interface TerminationState {
  /** `-` normal; `C`/`c` the client (aborted / timed out); `S`/`s` the server; `P`, `L`, `R`, `I`, `D`, `K`, `U` HAProxy's own. */
  cause: string;
  /** `-` normal; `R` request, `Q` queue, `C` connection, `H` headers, `D` data, `L` last bytes, `T` tarpit. */
  phase: string;
}

export interface BalancerLine {
  /** The accept date as HAProxy printed it, read as UTC: HAProxy writes its local time without a zone. */
  wallTime: number;
  frontend: string;
  backend: string;
  /** `<NOSRV>` when no server was chosen (none up, or the request never got that far). */
  server: string;
  /** TR/Tw/Tc/Tr/Ta in ms; -1 when that phase was never reached. */
  timers: { request: number; queue: number; connect: number; response: number; total: number };
  /** -1 when no answer was sent. */
  status: number;
  state: TerminationState;
  /** Retries to reach a server (`%rc`), redispatches included. */
  retries: number;
  method: string;
  path: string;
  /** The request id HAProxy passed to the instance (and logged), when there was one. */
  requestId?: string;
}

export type ParsedBalancerLine = { line: BalancerLine } | { reason: 'bad_field'; detail: string };

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** The start of such a line: an address and port, then the bracketed accept date. Cheap to test on any line. */
const HEAD = /^[0-9A-Fa-f.:]{3,45}:\d{1,5} \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:/;
/** The whole line; each part is a bounded class, so a hostile line costs its length, not more. */
const LINE =
  /^(?<client>[0-9A-Fa-f.:]{3,45}):(?<port>\d{1,5}) \[(?<day>\d{2})\/(?<month>[A-Z][a-z]{2})\/(?<year>\d{4}):(?<hour>\d{2}):(?<minute>\d{2}):(?<second>\d{2})\.(?<ms>\d{3})\] (?<frontend>[^\s/]{1,128}) (?<backend>[^\s/]{1,128})\/(?<server>[^\s/]{1,128}) (?<timers>[-+0-9/]{9,64}) (?<status>-?\d{1,3}) \+?(?<bytes>\d{1,20})(?: [^\s]{1,256} [^\s]{1,256})? (?<tsc>[A-Za-z-]{4}) (?<conns>[+0-9/]{9,64}) (?<queues>\d{1,10}\/\d{1,10}) (?:\{[^}]{0,4096}\} ){0,2}"(?<request>[^"]{0,8192})"(?: id=(?<id>\S{0,256}))?$/;
/** A request id HAProxy logs as the instance keeps it: the pattern of the instance's own ids. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_TIMER_MS = 2 ** 31;

/** True when `text` starts like a balancer log line: worth a full parse, not a JSON line. */
export function looksLikeBalancerLine(text: string): boolean {
  return HEAD.test(text);
}

export function parseBalancerLine(text: string): ParsedBalancerLine {
  const match = LINE.exec(text);
  const g = match?.groups;
  if (!g) return bad('the line', 'the shipped log-format');
  const month = MONTHS[g.month as string];
  const [year, day, hour, minute, second, ms] = [g.year, g.day, g.hour, g.minute, g.second, g.ms].map(Number);
  if (
    month === undefined ||
    year === undefined ||
    year < 1970 ||
    day === undefined ||
    day < 1 ||
    day > 31 ||
    (hour ?? 99) > 23 ||
    (minute ?? 99) > 59 ||
    (second ?? 99) > 60
  )
    return bad('accept date', 'a date such as 02/Dec/2026:16:42:31.750');
  const wallTime = Date.UTC(year, month, day, hour, minute, second, ms);
  if (new Date(wallTime).getUTCDate() !== day) return bad('accept date', 'a day of that month');
  const timers = (g.timers as string).split('/').map((t) => Number(t.replace(/^\+/, '')));
  if (timers.length !== 5 || !timers.every((t) => Number.isInteger(t) && t >= -1 && t <= MAX_TIMER_MS))
    return bad('timers', 'five times TR/Tw/Tc/Tr/Ta in ms, each -1 or more');
  const status = Number(g.status);
  if (status !== -1 && (status < 100 || status > 599)) return bad('status', '-1 or a status from 100 to 599');
  const conns = (g.conns as string).split('/').map((c) => Number(c.replace(/^\+/, '')));
  if (conns.length !== 5 || !conns.every((c) => Number.isInteger(c) && c >= 0 && c <= MAX_TIMER_MS))
    return bad('connection counts', 'five whole counts ac/fc/bc/sc/rc');
  const [method = '', path = ''] = (g.request as string).split(' ');
  const id = g.id;
  const [request, queue, connect, response, total] = timers as [number, number, number, number, number];
  return {
    line: {
      wallTime,
      frontend: g.frontend as string,
      backend: g.backend as string,
      server: g.server as string,
      timers: { request, queue, connect, response, total },
      status,
      state: { cause: (g.tsc as string)[0] as string, phase: (g.tsc as string)[1] as string },
      retries: conns[4] as number,
      method: method.slice(0, 16),
      path: path.slice(0, 512),
      // HAProxy logs an empty capture as `-`; anything not an instance's id pattern is not joined on.
      requestId: id && REQUEST_ID.test(id) && id !== '-' ? id : undefined,
    },
  };
}

function bad(field: string, expected: string): ParsedBalancerLine {
  return { reason: 'bad_field', detail: `${field}: not ${expected}` };
}

/** What a termination state says, in words: the phrase a finding and the docs use. */
export function describeState(state: TerminationState): string {
  const who: Record<string, string> = {
    '-': 'ended normally',
    C: 'the client aborted',
    c: 'the client timed out',
    S: 'the server aborted or refused',
    s: "the server timed out ('timeout server')",
    P: 'HAProxy refused it',
    L: 'HAProxy answered it itself',
    R: 'a resource of HAProxy ran out',
    I: 'an internal error of HAProxy',
    D: 'the server went down',
    K: 'an admin killed it',
    U: 'HAProxy stopped',
  };
  const when: Record<string, string> = {
    '-': '',
    R: 'while the request was read',
    Q: 'while it waited in the queue',
    C: 'while connecting to the server',
    H: "while waiting for the server's headers",
    D: 'while the data was sent',
    L: 'while the last bytes were sent',
    T: 'while tarpitted',
  };
  const phase = when[state.phase];
  return [who[state.cause] ?? `termination '${state.cause}'`, phase].filter(Boolean).join(' ');
}

/** `/api/carts/<uuid>/items` as a route: segments holding a digit are ids. Query and fragment left out. */
export function pathAsRoute(path: string): string {
  const bare = path.split(/[?#]/)[0] ?? '';
  return bare
    .split('/')
    .map((segment) => (/\d/.test(segment) ? ':id' : segment))
    .join('/')
    .slice(0, 200);
}

/** HAProxy's own messages: `[WARNING]  (123) : ...` on stderr, the same text bare in the log. */
const MESSAGE_PREFIX = /^\[(?:NOTICE|WARNING|ALERT)\] {1,8}\(\d{1,10}\) : /;
const SERVER_EVENT =
  /^Server (?<backend>[^\s/]{1,128})\/(?<server>[^\s/]{1,128}) (?<event>is DOWN|is UP|enters drain state|leaves drain state|is going DOWN for maintenance|enters maintenance|is leaving forced maintenance|is UP\/READY)/;
const NO_SERVER = /^backend '?(?<backend>[^\s']{1,128})'? has no server available!/;

/** A server's state change or a backend left without servers, as HAProxy logs it (the line carries no time). */
export interface BalancerEvent {
  server?: string;
  backend: string;
  /** `down`, `up`, `drain`, `maintenance`, or `no_server` for the backend. */
  event: 'down' | 'up' | 'drain' | 'maintenance' | 'no_server';
  text: string;
}

/** True for a line of HAProxy's own (not a request line): a message with its level, or a bare event. */
export function looksLikeBalancerMessage(text: string): boolean {
  return MESSAGE_PREFIX.test(text) || text.startsWith('Server ') || text.startsWith('backend ');
}

export function parseBalancerEvent(text: string): BalancerEvent | undefined {
  const body = text.replace(MESSAGE_PREFIX, '');
  const none = NO_SERVER.exec(body);
  if (none?.groups)
    return { backend: none.groups.backend as string, event: 'no_server', text: body.slice(0, 300) };
  const match = SERVER_EVENT.exec(body);
  if (!match?.groups) return undefined;
  const said = match.groups.event as string;
  const event = said.includes('drain')
    ? said.startsWith('leaves')
      ? 'up'
      : 'drain'
    : said.includes('maintenance')
      ? said.includes('leaving')
        ? 'up'
        : 'maintenance'
      : said.startsWith('is UP')
        ? 'up'
        : 'down';
  return {
    backend: match.groups.backend as string,
    server: match.groups.server as string,
    event,
    text: body.slice(0, 300),
  };
}
