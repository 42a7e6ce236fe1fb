import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { basename, dirname } from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import { LOG_FILE_MODE } from '../platform/logging/createLogger.ts';
import { describeProcess, type ProcessEntry, stillRunning } from './processTree.ts';
import { stopProcessTree } from './stopProcessTree.ts';

export interface ManagedProcessOptions {
  name: string;
  /** The module to run with this Node.js. */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Appends the process's output here, rotated by size; `<name>.1.log.gz` is the newest old one. */
  logFile: string;
  /** Size past which the log file is rotated (`10m`, `500k`), and how many old files are kept. */
  logMaxSize: string;
  logRetention: number;
  /** What of the process's output the terminal shows: a line to print, or undefined. */
  echo: (line: string) => string | undefined;
  startTimeoutMs: number;
  /** How long a stop may take (the process's own shutdown timeout and a margin) before SIGKILL. */
  stopTimeoutMs: number;
  /** At most this many restarts within `restartWindowMs`; then the process is left down. */
  maxRestarts: number;
  restartWindowMs: number;
  onEvent: (message: string) => void;
  /** After each (re)start, with what the process announced. */
  onReady?: (ready: ReadyMessage) => void;
}

export interface ReadyMessage {
  type: 'listening';
  url: string;
  /** Where its operator's surfaces and health checks listen, when apart from the API. */
  managementUrl?: string;
  /** Where the balancer's agent check reads its admission limit (the checkout's), on the management host. */
  admissionAgentPort?: number;
  pid?: number;
}

/**
 * One supervised child process, as a process manager keeps it: started in its own process group (a
 * Ctrl-C reaches the supervisor, which stops children in order), ready when it says so over IPC,
 * restarted when it dies unasked, a few times a minute at most. Stopped with everything it started
 * (SIGTERM, then SIGKILL to the whole tree), and never started again once stopped.
 */
export class ManagedProcess {
  readonly name: string;
  readonly #options: ManagedProcessOptions;
  readonly #log: RotatingFileStream;
  #child: ChildProcess | undefined;
  #ready: ReadyMessage | undefined;
  #stopping = false;
  /** Set by stop(): a restart or a rolling restart still under way must not bring it back. */
  #stopped = false;
  /** Aborted by killNow(): a stop under way, or to come, SIGKILLs without waiting. */
  readonly #hurry = new AbortController();
  /** Every process of its trees that a stop or restart saw, to check that none is left. */
  readonly #seen = new Map<number, ProcessEntry>();
  #restarts: number[] = [];
  #restartTimer: NodeJS.Timeout | undefined;
  /** The extra environment of the last start, for restarts. */
  #startEnv: NodeJS.ProcessEnv = {};

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.#options = options;
    const name = basename(options.logFile, '.log');
    this.#log = createStream((index) => (index ? `${name}.${index}.log.gz` : `${name}.log`), {
      path: dirname(options.logFile),
      size: rotationSize(options.logMaxSize),
      rotate: options.logRetention,
      compress: 'gzip',
      mode: LOG_FILE_MODE,
    });
  }

  get pid(): number | undefined {
    return this.#ready?.pid ?? this.#child?.pid;
  }

  get ready(): ReadyMessage | undefined {
    return this.#ready;
  }

  /** Starts the process and resolves once it announced it is listening. */
  async start(extraEnv: NodeJS.ProcessEnv = {}): Promise<ReadyMessage> {
    if (this.#stopped) throw new Error(`${this.name} is stopped`);
    this.#startEnv = extraEnv;
    const child = spawn(process.execPath, [this.#options.entry], {
      env: { ...this.#options.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      eachLine(stream, (line) => {
        this.#log.write(`${line}\n`);
        const shown = this.#options.echo(line);
        if (shown !== undefined) process.stdout.write(`${shown}\n`);
      });
    }
    const ready = new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${this.name} did not become ready within ${this.#options.startTimeoutMs} ms`)),
        this.#options.startTimeoutMs,
      );
      child.on('message', (message: ReadyMessage) => {
        if (message?.type !== 'listening') return;
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.name} exited before it was ready (code ${code}, signal ${signal}); see its log`),
        );
      });
    });
    const message = await ready;
    this.#ready = { ...message, pid: message.pid ?? child.pid };
    this.#options.onReady?.(this.#ready);
    child.once('exit', (code, signal) => this.#exited(code, signal));
    return this.#ready;
  }

  /** Stops it for good; resolves with what of it still runs (nothing, unless SIGKILL failed too). */
  async stop(): Promise<ProcessEntry[]> {
    this.#stopped = true;
    const survivors = await this.#terminate();
    await new Promise((resolve) => this.#log.end(resolve));
    return survivors;
  }

  /** SIGKILL now: to a stop under way (a second Ctrl-C), or at once to one that comes. */
  killNow(): void {
    this.#hurry.abort();
  }

  /** What of every process its stops saw still runs now, each named for the terminal. */
  async remaining(): Promise<string[]> {
    const running = await stillRunning([...this.#seen.values()]);
    return running.map((entry) => describeProcess(this.name, entry));
  }

  /** Stops the process gracefully and starts it again on the same address (a rolling restart's step). */
  async restart(): Promise<ReadyMessage> {
    const survivors = await this.#terminate();
    if (survivors.length > 0) {
      throw new Error(
        `${this.name} could not be stopped: ${survivors.map((s) => describeProcess(this.name, s)).join(', ')}`,
      );
    }
    this.#stopping = false;
    return this.start(this.#sameAddress());
  }

  /**
   * SIGTERM, then SIGKILL to all it started if anything of it still runs after its stop timeout; no
   * restart follows. Resolves with what SIGKILL did not end either.
   */
  async #terminate(): Promise<ProcessEntry[]> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child?.pid) return [];
    const running = child.exitCode === null && child.signalCode === null;
    const exited = running ? once(child, 'exit') : Promise.resolve();
    const timeoutMs = this.#options.stopTimeoutMs;
    const who = () => `${this.name} (pid ${this.pid})`;
    // The child's pid also names its process group: what it left behind when it died is found by it.
    const { seen, survivors } = await stopProcessTree({
      roots: [child.pid],
      ask: () => {
        if (running) child.kill('SIGTERM');
      },
      timeoutMs,
      hurry: this.#hurry.signal,
      onWaiting: (leftMs) =>
        this.#options.onEvent(
          `waiting for ${who()} to stop, SIGKILL in ${Math.max(1, Math.round(leftMs / 1000))} s`,
        ),
      onKill: (left) =>
        this.#options.onEvent(
          `${this.#hurry.signal.aborted ? `killing ${who()}` : `${who()} did not stop within ${timeoutMs / 1000} s`}: SIGKILL to ${left.map((e) => e.pid).join(', ')}`,
        ),
    });
    for (const entry of seen) this.#seen.set(entry.pid, entry);
    if (!survivors.some((entry) => entry.pid === child.pid)) await exited;
    return survivors;
  }

  /**
   * The last start's environment, on the ports it bound: the other services, the balancer's checks and
   * stack.json point at them.
   */
  #sameAddress(): NodeJS.ProcessEnv {
    // Parsed without throwing: a restart runs in a timer, where a throw would end the supervisor.
    const portOf = (url: string | undefined) => (url ? URL.parse(url)?.port || undefined : undefined);
    const port = portOf(this.#ready?.url);
    const managementPort = portOf(this.#ready?.managementUrl);
    const agentPort = this.#ready?.admissionAgentPort;
    return {
      ...this.#startEnv,
      ...(port ? { PORT: port } : {}),
      ...(managementPort ? { MANAGEMENT_PORT: managementPort } : {}),
      ...(agentPort ? { ADMISSION_AGENT_PORT: String(agentPort) } : {}),
    };
  }

  #exited(code: number | null, signal: NodeJS.Signals | null) {
    if (this.#stopping) return;
    const now = Date.now();
    this.#restarts = this.#restarts.filter((t) => now - t < this.#options.restartWindowMs);
    if (this.#restarts.length >= this.#options.maxRestarts) {
      this.#options.onEvent(
        `${this.name} exited (code ${code}, signal ${signal}) and was restarted ${this.#restarts.length} times within a minute: leaving it down`,
      );
      return;
    }
    this.#restarts.push(now);
    // Back off (0.5 s, 1 s, 2 s, ...) so that a dependency that is down for a while does not use up the restarts.
    const delayMs = Math.min(500 * 2 ** (this.#restarts.length - 1), 8000);
    this.#options.onEvent(
      `${this.name} exited (code ${code}, signal ${signal}): restarting in ${delayMs} ms`,
    );
    this.#restartTimer = setTimeout(() => {
      this.start(this.#sameAddress()).catch((error: Error) => {
        this.#options.onEvent(`${this.name} failed to restart: ${error.message}`);
        this.#exited(this.#child?.exitCode ?? null, this.#child?.signalCode ?? null);
      });
    }, delayMs);
  }
}

/** `LOG_FILE_MAX_SIZE` (`10m`, `500k`, bytes when bare) in the notation of rotating-file-stream. */
function rotationSize(size: string): string {
  const match = /^(\d+)([kmg]?)$/i.exec(size.trim());
  if (!match) throw new Error(`not a log size: ${size}`);
  return `${match[1]}${match[2] ? match[2].toUpperCase() : 'B'}`;
}

/**
 * Calls `onLine` with each line of a child's output, split at `\n` only (a `\r` before it dropped).
 * readline also ends a line at a lone `\r`, U+2028 and U+2029, which JSON leaves unescaped inside a
 * string: one log line holding such text would become two, the second of the text's choosing.
 */
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      const line = partial + chunk.slice(start, end);
      partial = '';
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = end + 1;
    }
    partial += chunk.slice(start);
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
    partial = '';
  });
}
