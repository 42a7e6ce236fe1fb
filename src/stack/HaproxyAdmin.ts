import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerState {
  /** UP, DOWN, DRAIN, MAINT, ... as HAProxy's stats say it. */
  status: string;
  /** Requests it is serving now. */
  sessions: number;
  /** Checks that failed while it was up, since HAProxy started. */
  failedChecks: number;
  /** Times its checks took it from UP to DOWN. */
  timesDown: number;
}

/** HAProxy's runtime API (its admin socket), for the servers of one backend. */
export class HaproxyAdmin {
  readonly #socketPath: string;
  readonly #backend: string;

  constructor(socketPath: string, backend: string) {
    this.#socketPath = socketPath;
    this.#backend = backend;
  }

  /** One command, its whole answer. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.#socketPath);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        answer += chunk;
      });
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.end(`${line}\n`);
    });
  }

  /** `ready` takes new requests; `drain` finishes the ones it has and takes no new ones. */
  async setState(server: string, state: 'ready' | 'drain' | 'maint'): Promise<void> {
    const answer = (await this.command(`set server ${this.#backend}/${server} state ${state}`)).trim();
    if (answer) throw new Error(`HAProxy refused to set ${server} ${state}: ${answer}`);
  }

  async servers(): Promise<Record<string, ServerState>> {
    const [header = '', ...rows] = (await this.command('show stat')).trim().split('\n');
    const columns = header.replace(/^# /, '').split(',');
    const at = (name: string) => columns.indexOf(name);
    const servers: Record<string, ServerState> = {};
    for (const cells of rows.map((row) => row.split(','))) {
      const name = cells[at('svname')] ?? '';
      if (cells[at('pxname')] !== this.#backend || name === 'BACKEND' || name === 'FRONTEND') continue;
      const count = (column: string) => Number(cells[at(column)] || 0);
      servers[name] = {
        status: cells[at('status')] ?? '',
        sessions: count('scur'),
        failedChecks: count('chkfail'),
        timesDown: count('chkdown'),
      };
    }
    return servers;
  }

  /** Polls until `server` satisfies `wanted`, or fails after `timeoutMs`. */
  async waitFor(server: string, wanted: (state: ServerState) => boolean, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = (await this.servers())[server];
      if (state && wanted(state)) return;
      if (Date.now() > deadline) throw new Error(`${server} did not become ${what} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}
