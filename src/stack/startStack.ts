import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '../checkout/auth.ts';
import { CHECKOUT_MIGRATIONS } from '../checkout/main.ts';
import { migrate } from '../platform/database/migrations.ts';
import { describeDatabase } from '../platform/preflight/preflight.ts';
import { INVENTORY_MIGRATIONS } from '../sandbox/inventory/main.ts';
import { PAYMENT_MIGRATIONS } from '../sandbox/payment/main.ts';
import { ensureDatabases } from './databases.ts';
import { DEMO_USER_ID, seedDemoData } from './demoData.ts';
import { freePort } from './freePort.ts';
import type { HaproxyAdmin } from './HaproxyAdmin.ts';
import { startLoadBalancer } from './loadBalancer.ts';
import { ManagedProcess } from './ManagedProcess.ts';
import { startMonitoring } from './monitoring.ts';
import { rollingRestart } from './rollingRestart.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { type EchoMode, terminalLine } from './terminalEcho.ts';

export interface StackOptions {
  dataDir: string;
  checkoutPort: number;
  inventoryPort: number;
  paymentPort: number;
  /** What the terminal shows of the services' output: nothing, their warnings and errors, or everything. */
  echo: EchoMode;
  /** Size past which each service's log file under `<data dir>/logs` is rotated, and old files kept. */
  logMaxSize: string;
  logRetention: number;
  /** Use this PostgreSQL server (its databases are made on it) instead of the embedded one. */
  databaseUrl?: string | undefined;
  /** Checkout instances; more than one run behind HAProxy on `checkoutPort`, each on a port of its own. */
  instances: number;
  /** HAProxy's stats page, with several instances; 0 picks a free port. */
  haproxyStatsPort: number;
  /** Also run Prometheus and Alertmanager (when installed) with the shipped rules and routes; 0 picks a free port. */
  monitoring?: { prometheusPort: number; alertmanagerPort: number } | undefined;
}

/** The facts a script needs to use a running stack: `<data dir>/stack.json` (docs/architecture.md section 10). */
export interface StackInfo {
  checkoutUrl: string;
  inventoryUrl: string;
  paymentUrl: string;
  databaseUrl: string;
  demoUserId: string;
  demoToken: string;
  demoCartId: string;
  /**
   * Every checkout instance; `checkoutUrl` is HAProxy in front of them when there are several. Then each
   * also has a management listener (`managementUrl`): its metrics, dashboard and the balancer's checks.
   */
  instances: StackInstance[];
  /** With several instances. */
  haproxyStatsUrl?: string;
  /** The last rolling restart (`steadfast restart --rolling`), while it runs and once it ended. */
  rollingRestart?: {
    startedAt: string;
    state: 'running' | 'done' | 'failed';
    finishedAt?: string;
    error?: string;
  };
  /** With `--monitoring`, when Prometheus and Alertmanager are installed. */
  prometheusUrl?: string;
  alertmanagerUrl?: string;
  pids: {
    /** The first checkout instance (each one's pid is in `instances`). */
    checkout?: number;
    haproxy?: number;
    inventory?: number;
    payment?: number;
    postgres?: number;
    prometheus?: number;
    alertmanager?: number;
    supervisor: number;
  };
}

const DATABASES = { checkout: 'checkout', inventory: 'inventory', payment: 'payment_sandbox' } as const;
const entry = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The order of a stop: what uses a process stops before it. */
const STAGES = ['monitoring', 'checkout', 'balancer', 'sandboxes', 'postgres'] as const;
type Stage = (typeof STAGES)[number];

/**
 * How long each process may take to stop before SIGKILL. A service ends itself after its own
 * SHUTDOWN_TIMEOUT_MS (every service reads the supervisor's environment); the wrappers of PostgreSQL,
 * HAProxy, Prometheus and Alertmanager kill their server themselves after 8 to 10 s.
 */
const serviceStopTimeoutMs = () => (Number(process.env.SHUTDOWN_TIMEOUT_MS) || 15000) + 5000;
const WRAPPER_STOP_TIMEOUT_MS = 15000;
/** How often the supervisor looks whether its parent is gone. */
const ORPHAN_CHECK_MS = 500;

/**
 * `steadfast start`: PostgreSQL, migrations, demo data, inventory, payment sandbox and checkout on
 * one machine, supervised until SIGINT, SIGTERM or SIGHUP, then stopped in order (checkout first,
 * PostgreSQL last), each process with everything it started; a second signal SIGKILLs what is left.
 */
export async function startStack(options: StackOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  const logsDir = join(dataDir, 'logs');
  // Its lines name users, carts and errorIds: the operator's alone, as stack.json is (a directory an older
  // start made open is closed too).
  await mkdir(logsDir, { recursive: true, mode: 0o700 });
  await chmod(logsDir, 0o700);
  const secrets = await loadOrCreateSecrets(dataDir);
  const say = (message: string) => process.stderr.write(`[steadfast] ${message}\n`);
  const started = Date.now();

  // Everything made, with the stage it stops in; nothing is made once a stop began.
  const supervised: { process: ManagedProcess; stage: Stage }[] = [];
  let stopping: Promise<number> | undefined;
  const managed = (
    stage: Stage,
    name: string,
    path: string,
    env: NodeJS.ProcessEnv,
    onReady?: () => void,
  ) => {
    if (stopping) throw new Error(`stopping: ${name} is not started`);
    const child = new ManagedProcess({
      name,
      entry: entry(path),
      env: { METRICS_DISK_PATHS: `data=${dataDir},logs=${logsDir}`, ...inheritedEnv(), ...env },
      logFile: join(logsDir, `${name}.log`),
      logMaxSize: options.logMaxSize,
      logRetention: options.logRetention,
      echo: (line: string) => terminalLine(name, line, options.echo),
      startTimeoutMs: 60000,
      stopTimeoutMs:
        stage === 'checkout' || stage === 'sandboxes' ? serviceStopTimeoutMs() : WRAPPER_STOP_TIMEOUT_MS,
      maxRestarts: 5,
      restartWindowMs: 60000,
      onEvent: say,
      onReady,
    });
    supervised.push({ process: child, stage });
    return child;
  };

  const postgresPort = await freePort();
  const postgres = options.databaseUrl
    ? undefined
    : managed(
        'postgres',
        'postgres',
        './postgresProcess.ts',
        {
          PG_DATA_DIR: join(dataDir, 'pg'),
          PG_PORT: String(postgresPort),
          PG_PASSWORD: secrets.postgresPassword,
        },
        () => void writeInfo(),
      );
  const pgUrl = (db: string) => {
    const url = new URL(options.databaseUrl ?? `postgres://postgres@127.0.0.1:${postgresPort}/`);
    if (!options.databaseUrl) url.password = secrets.postgresPassword;
    url.pathname = `/${db}`;
    return url.toString();
  };
  let info: StackInfo | undefined;
  const writeInfo = async () => {
    if (!info) return;
    info.instances = checkouts.map((c) => instanceOf(c));
    info.pids = {
      checkout: checkouts[0]?.pid,
      haproxy: haproxy?.pid,
      inventory: inventory?.pid,
      payment: payment?.pid,
      postgres: postgres?.pid,
      prometheus: prometheus?.pid,
      alertmanager: alertmanager?.pid,
      supervisor: process.pid,
    };
    // It holds the PostgreSQL password and a 30-day token: readable by its owner only, as stack.env.
    await writeAtomically(join(dataDir, 'stack.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  };
  const checkouts: ManagedProcess[] = [];
  let haproxy: ManagedProcess | undefined;
  let balancerAdmin: HaproxyAdmin | undefined;
  let inventory: ManagedProcess | undefined;
  let payment: ManagedProcess | undefined;
  let prometheus: ManagedProcess | undefined;
  let alertmanager: ManagedProcess | undefined;

  /**
   * Stops everything, stage by stage, and checks that nothing it started is left (each pid, PostgreSQL's
   * backends included): 0 when so, 1 after naming what is still running.
   */
  const stopAll = async (): Promise<number> => {
    for (const stage of STAGES) {
      await Promise.all(supervised.filter((s) => s.stage === stage).map((s) => s.process.stop()));
    }
    const left = (await Promise.all(supervised.map((s) => s.process.remaining()))).flat();
    if (left.length === 0) {
      say('stopped');
      return 0;
    }
    say(`could not stop ${left.join(', ')}: still running`);
    return 1;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // As most supervisors do: asked twice, the user wants out now; nothing is left behind either way.
      say(`${signal} again: SIGKILL to everything still running`);
      for (const s of supervised) s.process.killNow();
      return;
    }
    say(
      `${signal}: stopping checkout, then inventory and payment sandbox, then PostgreSQL (again: SIGKILL at once)`,
    );
    stopping = stopAll();
    void stopping.then((code) => process.exit(code));
  };
  // A closed terminal (SIGHUP) or a reader gone from the pipe must not end the stop half-way.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  // Whoever started it may go without a word: `npm start` passes SIGTERM to a shell that dies of it,
  // and dies of SIGHUP itself. Orphaned (a new parent), the stack stops as if told to.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphanWatch);
    // A stop already under way goes on as it was (its parent may leave while it waits).
    if (!stopping) onSignal('SIGHUP');
  }, ORPHAN_CHECK_MS);
  orphanWatch.unref();
  // `steadfast restart --rolling` asks for one; it reads the outcome in stack.json.
  process.on('SIGUSR2', () => {
    if (!info || stopping || info.rollingRestart?.state === 'running') return;
    const run: NonNullable<StackInfo['rollingRestart']> = {
      startedAt: new Date().toISOString(),
      state: 'running',
    };
    info.rollingRestart = run;
    void writeInfo()
      .then(() => rollingRestart(checkouts, balancerAdmin, say))
      .then(
        () => Object.assign(run, { state: 'done' }),
        (error: Error) => {
          say(`rolling restart failed: ${error.message}`);
          Object.assign(run, { state: 'failed', error: error.message });
        },
      )
      .then(() => {
        run.finishedAt = new Date().toISOString();
        return writeInfo();
      });
  });
  process.on('SIGTERM', onSignal);

  try {
    if (postgres) {
      say(
        `starting PostgreSQL (data in ${join(dataDir, 'pg')}, its output in ${join(logsDir, 'postgres.log')})`,
      );
      await postgres.start();
    } else {
      say(`using the PostgreSQL server of DATABASE_URL (${describeDatabase(pgUrl('postgres'))})`);
    }
    await ensureDatabases(options.databaseUrl ?? pgUrl('postgres'), Object.values(DATABASES));
    await migrate(pgUrl(DATABASES.checkout), CHECKOUT_MIGRATIONS);
    await migrate(pgUrl(DATABASES.inventory), INVENTORY_MIGRATIONS);
    await migrate(pgUrl(DATABASES.payment), PAYMENT_MIGRATIONS);
    say('databases migrated');
    const { demoCartId } = await seedDemoData({
      checkout: pgUrl(DATABASES.checkout),
      inventory: pgUrl(DATABASES.inventory),
    });
    say('demo data loaded; starting the inventory service and the payment sandbox');

    // Sandboxes drain at once; only the checkout, behind a load balancer in production, waits for it.
    const sandboxEnv = { SHUTDOWN_DRAIN_DELAY_MS: process.env.SHUTDOWN_DRAIN_DELAY_MS ?? '0' };
    inventory = managed(
      'sandboxes',
      'inventory',
      '../sandbox/inventory/main.ts',
      {
        ...sandboxEnv,
        DATABASE_URL: pgUrl(DATABASES.inventory),
      },
      () => void writeInfo(),
    );
    payment = managed(
      'sandboxes',
      'payment',
      '../sandbox/payment/main.ts',
      {
        ...sandboxEnv,
        DATABASE_URL: pgUrl(DATABASES.payment),
        PAYMENT_API_KEY: secrets.paymentApiKey,
      },
      () => void writeInfo(),
    );
    const [inventoryReady, paymentReady] = await Promise.all([
      inventory.start({ PORT: String(options.inventoryPort) }),
      payment.start({ PORT: String(options.paymentPort) }),
    ]);

    const serveEnv = {
      DATABASE_URL: pgUrl(DATABASES.checkout),
      PAYMENT_PROVIDER: 'sandbox',
      STRIPE_API_BASE: paymentReady.url,
      STRIPE_SECRET_KEY: secrets.paymentApiKey,
      INVENTORY_API_URL: inventoryReady.url,
      JWT_SECRET: secrets.jwtSecret,
      // The dashboard's verdict reads the sandboxes' /metrics and /health beside the instance's own.
      DASHBOARD_PEER_URLS: `${inventoryReady.url},${paymentReady.url}`,
    };
    const several = options.instances > 1;
    say(several ? `starting ${options.instances} checkout instances` : 'starting the checkout service');
    const names = several
      ? Array.from({ length: options.instances }, (_, i) => `checkout-${i + 1}`)
      : ['checkout'];
    for (const name of names)
      checkouts.push(managed('checkout', name, '../checkout/main.ts', serveEnv, () => void writeInfo()));
    // Behind HAProxy, as in production, each instance's operator surfaces and health checks listen apart
    // from its API: a flood of new connections on the API cannot delay the balancer's checks.
    await Promise.all(
      checkouts.map((c) =>
        c.start(several ? { PORT: '0', MANAGEMENT_PORT: '0' } : { PORT: String(options.checkoutPort) }),
      ),
    );
    const instances = checkouts.map((c) => instanceOf(c));
    let checkoutUrl = instances[0]?.url ?? '';
    let haproxyStatsUrl: string | undefined;
    if (several) {
      say('starting HAProxy in front of them');
      const balancer = await startLoadBalancer({
        dir: join(dataDir, 'haproxy'),
        port: options.checkoutPort,
        statsPort: options.haproxyStatsPort,
        instances,
        supervise: (name, path, env) => managed('balancer', name, path, env, () => void writeInfo()),
      });
      haproxy = balancer.process;
      balancerAdmin = balancer.admin;
      checkoutUrl = balancer.url;
      haproxyStatsUrl = balancer.statsUrl;
    }

    const monitoring = options.monitoring
      ? await startMonitoring({
          dir: join(dataDir, 'monitoring'),
          targets: [
            ...instances.map((i) => ({ service: 'checkout', url: i.managementUrl ?? i.url })),
            { service: 'inventory', url: inventoryReady.url },
            { service: 'payment-sandbox', url: paymentReady.url },
          ],
          ...options.monitoring,
          supervise: (name, path, env) => managed('monitoring', name, path, env, () => void writeInfo()),
          say,
        })
      : undefined;
    if (monitoring) {
      ({ prometheus, alertmanager } = monitoring.processes);
    }

    info = {
      checkoutUrl,
      inventoryUrl: inventoryReady.url,
      paymentUrl: paymentReady.url,
      databaseUrl: pgUrl(DATABASES.checkout),
      demoUserId: DEMO_USER_ID,
      demoToken: await signToken(secrets.jwtSecret, DEMO_USER_ID, '30d'),
      demoCartId,
      instances,
      ...(haproxyStatsUrl ? { haproxyStatsUrl } : {}),
      ...(monitoring
        ? { prometheusUrl: monitoring.prometheusUrl, alertmanagerUrl: monitoring.alertmanagerUrl }
        : {}),
      pids: { supervisor: process.pid },
    };
    await writeAtomically(
      join(dataDir, 'stack.env'),
      `${Object.entries(serveEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );
    await writeInfo();
    printSummary(info, dataDir, Date.now() - started);
  } catch (error) {
    // A signal during the start stops what was started; the start's own failure is then no news.
    if (stopping) return;
    say(`start failed: ${(error as Error).message}`);
    stopping = stopAll();
    await stopping;
    process.exit(1);
  }
}

function printSummary(info: StackInfo, dataDir: string, elapsedMs: number) {
  const curl = [
    `curl -i -X POST ${info.checkoutUrl}/api/checkout/complete`,
    `  -H 'Authorization: Bearer ${info.demoToken}'`,
    `  -H 'Content-Type: application/json'`,
    `  -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)"`,
    `  -d '{"cartId":"${info.demoCartId}","paymentToken":"pm_card_visa"}'`,
  ].join(' \\\n');
  // Behind HAProxy each instance serves its own, on its management listener.
  const operatorUrls = info.instances.every((i) => i.managementUrl)
    ? info.instances.map((i) => i.managementUrl as string)
    : [info.checkoutUrl];
  process.stdout.write(
    [
      '',
      `Steadfast is up (${(elapsedMs / 1000).toFixed(1)} s).`,
      `  checkout         ${info.checkoutUrl}   (health: ${info.checkoutUrl}/health, API: ${info.checkoutUrl}/openapi.json)`,
      `  API reference    ${operatorUrls.map((url) => `${url}/docs`).join(', ')}`,
      `  dashboard        ${operatorUrls.map((url) => `${url}/dashboard`).join(', ')}`,
      ...(info.haproxyStatsUrl
        ? [
            `  instances        ${info.instances.map((i) => i.url).join(', ')} behind HAProxy (stats: ${info.haproxyStatsUrl})`,
          ]
        : []),
      `  inventory        ${info.inventoryUrl}`,
      `  payment sandbox  ${info.paymentUrl}`,
      `  PostgreSQL       ${info.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
      ...(info.prometheusUrl
        ? [`  Prometheus       ${info.prometheusUrl}   (alerts: ${info.prometheusUrl}/alerts)`]
        : []),
      ...(info.alertmanagerUrl ? [`  Alertmanager     ${info.alertmanagerUrl}`] : []),
      `  logs             ${join(dataDir, 'logs')}`,
      `  stack facts      ${join(dataDir, 'stack.json')}, ${join(dataDir, 'stack.env')}`,
      '',
      `Demo user ${info.demoUserId}, token (30 days):`,
      `  ${info.demoToken}`,
      '',
      'Complete the demo checkout:',
      curl,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

let writes = 0;

/** One checkout instance as stack.json lists it. */
export interface StackInstance {
  name: string;
  url: string;
  managementUrl?: string;
  pid?: number;
}

function instanceOf(process: ManagedProcess): StackInstance {
  const { url = '', managementUrl } = process.ready ?? {};
  return { name: process.name, url, ...(managementUrl ? { managementUrl } : {}), pid: process.pid };
}

/** Readers (scripts, tests, operators) polling the file never see it half written. */
async function writeAtomically(
  path: string,
  content: string,
  options: { mode?: number } = {},
): Promise<void> {
  const temporary = `${path}.${process.pid}.${++writes}.tmp`;
  await writeFile(temporary, content, options);
  // writeFile's mode applies only to a file it creates: a temporary file left by an earlier run keeps its own.
  if (options.mode !== undefined) await chmod(temporary, options.mode);
  await rename(temporary, path);
}

/**
 * The supervisor's environment, as every process it starts inherits it, less what would make them collide:
 * one management port given to every service (and every instance) would be bound by the first alone.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const { MANAGEMENT_PORT: _port, MANAGEMENT_HOST: _host, ...inherited } = process.env;
  return inherited;
}
