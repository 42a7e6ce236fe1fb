import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Supervise } from './binaries.ts';
import { ManagedProcess } from './ManagedProcess.ts';
import { type EchoMode, terminalLine } from './terminalEcho.ts';

/** `.ts` from the source, `.js` from the build (`npm run build`): the children run as this module does. */
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url));

/** The order of a stop: what uses a process stops before it. */
export const STAGES = [
  'monitoring',
  'checkout',
  'balancer',
  'sandboxes',
  'collector',
  'postgres',
  'consensus',
] as const;
export type Stage = (typeof STAGES)[number];

/** What a stage's processes are, as the stop announces them. */
const STAGE_NAMES: Record<Stage, string> = {
  monitoring: 'Prometheus and Alertmanager',
  checkout: 'checkout',
  balancer: 'HAProxy',
  sandboxes: 'inventory and payment sandbox',
  collector: 'the log collector',
  postgres: 'PostgreSQL',
  consensus: 'etcd',
};

/** The stages whose processes are Node.js services of the stack (they read LOG_SYSLOG_URL). */
const SERVICE_STAGES: readonly Stage[] = ['checkout', 'sandboxes'];

/**
 * How long each process may take to stop before SIGKILL. A service ends itself after its own
 * SHUTDOWN_TIMEOUT_MS (every service reads the supervisor's environment); the wrappers of PostgreSQL,
 * HAProxy, Prometheus and Alertmanager kill their server themselves after 8 to 10 s.
 */
const serviceStopTimeoutMs = () => (Number(process.env.SHUTDOWN_TIMEOUT_MS) || 15000) + 5000;
const WRAPPER_STOP_TIMEOUT_MS = 15000;

export interface SupervisorOptions {
  dataDir: string;
  /** Each process's output goes to `<logsDir>/<name>.log`, rotated by size and kept by count. */
  logsDir: string;
  logMaxSize: string;
  logRetention: number;
  echo: EchoMode;
  say: (message: string) => void;
  /** After each (re)start of any process: stack.json names their pids and addresses. */
  onReady: () => void;
}

/**
 * Every process `steadfast start` made, with the stage it stops in, and their stop: stage by stage, then
 * a check that nothing they started is left. Nothing is made once a stop began.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #supervised: { process: ManagedProcess; stage: Stage }[] = [];
  #stopping: Promise<number> | undefined;
  #collectorUrl: string | undefined;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** True once a stop began (a signal, or a failed start). */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** From now on every service made ships its lines to this collector, under its own name. */
  shipLogsTo(collectorUrl: string): void {
    this.#collectorUrl = collectorUrl;
  }

  /** The order the stop goes in, over the stages that have processes: `checkout, then …`. */
  get stopOrder(): string {
    return STAGES.filter((stage) => this.#supervised.some((s) => s.stage === stage))
      .map((stage) => STAGE_NAMES[stage])
      .join(', then ');
  }

  /** Makes (does not start) the process of the module at `path`, relative to this folder. */
  supervise(stage: Stage, name: string, path: string, env: NodeJS.ProcessEnv): ManagedProcess {
    if (this.#stopping) throw new Error(`stopping: ${name} is not started`);
    const { dataDir, logsDir, logMaxSize, logRetention, echo, say, onReady } = this.#options;
    const child = new ManagedProcess({
      name,
      entry: fileURLToPath(new URL(path.replace(/\.ts$/, OWN_EXTENSION), import.meta.url)),
      env: {
        METRICS_DISK_PATHS: `data=${dataDir},logs=${logsDir}`,
        ...inheritedEnv(),
        // Each under its own name: the collector files `checkout-1` apart from `checkout-2`.
        ...(SERVICE_STAGES.includes(stage) ? { LOG_SYSLOG_NAME: name } : {}),
        ...(this.#collectorUrl && SERVICE_STAGES.includes(stage)
          ? { LOG_SYSLOG_URL: this.#collectorUrl }
          : {}),
        ...env,
      },
      logFile: join(logsDir, `${name}.log`),
      logMaxSize,
      logRetention,
      echo: (line: string) => terminalLine(name, line, echo),
      startTimeoutMs: 60000,
      stopTimeoutMs: SERVICE_STAGES.includes(stage) ? serviceStopTimeoutMs() : WRAPPER_STOP_TIMEOUT_MS,
      maxRestarts: 5,
      restartWindowMs: 60000,
      onEvent: say,
      onReady,
    });
    this.#supervised.push({ process: child, stage });
    return child;
  }

  /** What the balancer and monitoring make their processes with: all of them in `stage`. */
  superviseIn(stage: Stage): Supervise {
    return (name, path, env) => this.supervise(stage, name, path, env);
  }

  /**
   * Stops everything, stage by stage, and checks that nothing it started is left (each pid, PostgreSQL's
   * backends included): 0 when so, 1 after naming what is still running. Asked again, the same stop.
   */
  stop(): Promise<number> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /** SIGKILL to everything still running, at once (a stop under way goes on from there). */
  killNow(): void {
    for (const s of this.#supervised) s.process.killNow();
  }

  async #stopAll(): Promise<number> {
    for (const stage of STAGES) {
      await Promise.all(this.#supervised.filter((s) => s.stage === stage).map((s) => s.process.stop()));
    }
    const left = (await Promise.all(this.#supervised.map((s) => s.process.remaining()))).flat();
    if (left.length === 0) {
      this.#options.say('stopped');
      return 0;
    }
    this.#options.say(`could not stop ${left.join(', ')}: still running`);
    return 1;
  }
}

/**
 * The supervisor's environment, as every process it starts inherits it, less what would make them collide:
 * one management or agent port given to every service (and every instance) would be bound by the first alone.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const {
    MANAGEMENT_PORT: _port,
    MANAGEMENT_HOST: _host,
    ADMISSION_AGENT_PORT: _agentPort,
    ...inherited
  } = process.env;
  return inherited;
}
