import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { signToken } from '../checkout/auth.ts';
import { CHECKOUT_MIGRATIONS } from '../checkout/main.ts';
import { migrate } from '../platform/database/migrations.ts';
import { describeDatabase } from '../platform/preflight/preflight.ts';
import { INVENTORY_MIGRATIONS } from '../sandbox/inventory/main.ts';
import { PAYMENT_MIGRATIONS } from '../sandbox/payment/main.ts';
import { ensureDatabases } from './databases.ts';
import { DEMO_USER_ID, seedDemoData } from './demoData.ts';
import { freePort, freePortBelowEphemeral } from './freePort.ts';
import { startLoadBalancer } from './loadBalancer.ts';
import { type RunningLogCollector, startLogCollector } from './logCollector.ts';
import type { ManagedProcess } from './ManagedProcess.ts';
import { type RunningMonitoring, startMonitoring } from './monitoring.ts';
import { type Replication, type RunningCluster, rolesOf, startPatroniCluster } from './patroniCluster.ts';
import { loadOrCreateSecrets, type StackSecrets } from './secrets.ts';
import { rollingRestartOnSignal, stopOnSignals } from './signals.ts';
import { instanceOf, StackFile, type StackInfo, type StackInstance, writeStackEnv } from './stackFile.ts';
import { printSummary } from './summary.ts';
import { Supervisor } from './supervisor.ts';
import type { EchoMode } from './terminalEcho.ts';

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
  /**
   * The services' databases on a Patroni cluster (two PostgreSQL nodes, etcd, HAProxy to the primary)
   * instead of one server; the payment sandbox, which stands in for a provider whose data does not fail
   * over with ours, keeps the embedded server.
   */
  ha?: { replication: Replication } | undefined;
  /** Ship every service's lines to a local rsyslog (when installed), one file per service and day. */
  centralLogs?: boolean | undefined;
  /** Also run Prometheus and Alertmanager (when installed) with the shipped rules and routes; 0 picks a free port. */
  monitoring?: { prometheusPort: number; alertmanagerPort: number } | undefined;
}

const DATABASES = { checkout: 'checkout', inventory: 'inventory', payment: 'payment_sandbox' } as const;

const say = (message: string) => process.stderr.write(`[steadfast] ${message}\n`);

/**
 * `steadfast start`: PostgreSQL, migrations, demo data, inventory, payment sandbox and checkout on
 * one machine, supervised until SIGINT, SIGTERM or SIGHUP, then stopped in order (checkout first,
 * PostgreSQL last), each process with everything it started; a second signal SIGKILLs what is left.
 */
export async function startStack(asked: StackOptions): Promise<void> {
  // The checkout's port is known before it starts (port 0: one picked now): the payment sandbox, started
  // first, sends its webhooks there.
  const options = { ...asked, checkoutPort: asked.checkoutPort || (await freePortBelowEphemeral()) };
  const { dataDir, logsDir } = await prepareDataDir(options.dataDir);
  const secrets = await loadOrCreateSecrets(dataDir);
  const started = Date.now();
  const stackFile = new StackFile(dataDir);
  const supervisor = new Supervisor({
    dataDir,
    logsDir,
    logMaxSize: options.logMaxSize,
    logRetention: options.logRetention,
    echo: options.echo,
    say,
    // A process that restarted has a new pid: stack.json follows.
    onReady: () => void stackFile.write(),
  });
  const database = await planDatabase(options.databaseUrl, dataDir, secrets, supervisor);
  stopOnSignals(supervisor, say);
  rollingRestartOnSignal(stackFile, supervisor, say);

  try {
    await startDatabase(database, dataDir, logsDir);
    const cluster = options.ha
      ? await startCluster(supervisor, dataDir, secrets, options.ha.replication)
      : undefined;
    const databases = databaseUrls(database, cluster, secrets);
    const collector = options.centralLogs ? await startCollector(supervisor, dataDir) : undefined;
    const { demoCartId } = await migrateAndSeed(databases);
    const sandboxes = await startSandboxes(supervisor, databases, secrets, options);
    const serveEnv = {
      ...checkoutEnv(databases, sandboxes, secrets),
      // An instance added with `steadfast serve` ships its lines there too.
      ...(collector ? { LOG_SYSLOG_URL: collector.url } : {}),
    };
    const checkouts = await startCheckouts(supervisor, serveEnv, options);
    const instances = checkouts.map((c) => instanceOf(c));
    const balancer =
      options.instances > 1 ? await startBalancer(supervisor, instances, dataDir, options) : undefined;
    const monitoring = await startMonitoringIfAsked(supervisor, instances, sandboxes, dataDir, options);

    const info: StackInfo = {
      checkoutUrl: balancer?.url ?? instances[0]?.url ?? '',
      inventoryUrl: sandboxes.inventoryUrl,
      paymentUrl: sandboxes.paymentUrl,
      databaseUrl: databases.checkout,
      demoUserId: DEMO_USER_ID,
      demoToken: await signToken(secrets.jwtSecret, DEMO_USER_ID, '30d'),
      demoCartId,
      instances,
      ...(balancer ? { haproxyStatsUrl: balancer.statsUrl } : {}),
      ...(monitoring
        ? { prometheusUrl: monitoring.prometheusUrl, alertmanagerUrl: monitoring.alertmanagerUrl }
        : {}),
      ...(cluster ? { ha: clusterInfo(cluster, options.ha?.replication ?? 'sync') } : {}),
      ...(collector ? { centralLogs: { url: collector.url, logsDir: collector.logsDir } } : {}),
      pids: { supervisor: process.pid },
    };
    await writeStackEnv(dataDir, serveEnv);
    await stackFile.publish(info, {
      postgres: database.process,
      cluster,
      inventory: sandboxes.inventory,
      payment: sandboxes.payment,
      checkouts,
      haproxy: balancer?.process,
      balancerAdmin: balancer?.admin,
      prometheus: monitoring?.processes.prometheus,
      alertmanager: monitoring?.processes.alertmanager,
      rsyslog: collector?.process,
    });
    if (cluster && info.ha) followRoles(cluster, info.ha, stackFile, supervisor);
    printSummary(info, dataDir, Date.now() - started);
  } catch (error) {
    // A signal during the start stops what was started; the start's own failure is then no news.
    if (supervisor.stopping) return;
    say(`start failed: ${(error as Error).message}`);
    await supervisor.stop();
    process.exit(1);
  }
}

/** The data directory, and its logs directory. */
async function prepareDataDir(dir: string): Promise<{ dataDir: string; logsDir: string }> {
  const dataDir = resolve(dir);
  const logsDir = join(dataDir, 'logs');
  // Its lines name users, carts and errorIds: the operator's alone, as stack.json is (a directory an older
  // start made open is closed too).
  await mkdir(logsDir, { recursive: true, mode: 0o700 });
  await chmod(logsDir, 0o700);
  return { dataDir, logsDir };
}

/** Where the databases live: the embedded server (supervised, stopped last) or that of DATABASE_URL. */
interface DatabaseServer {
  /** The embedded PostgreSQL, made but not started; undefined with DATABASE_URL. */
  process: ManagedProcess | undefined;
  /** Where the databases are created from: DATABASE_URL as given, or the embedded server's `postgres`. */
  adminUrl: string;
  /** The URL of one database on the server, with its password. */
  urlOf: (database: string) => string;
}

async function planDatabase(
  databaseUrl: string | undefined,
  dataDir: string,
  secrets: StackSecrets,
  supervisor: Supervisor,
): Promise<DatabaseServer> {
  if (databaseUrl) {
    const urlOf = (database: string) => {
      const url = new URL(databaseUrl);
      url.pathname = `/${database}`;
      return url.toString();
    };
    return { process: undefined, adminUrl: databaseUrl, urlOf };
  }
  const port = await freePort();
  const postgres = supervisor.supervise('postgres', 'postgres', './postgresProcess.ts', {
    PG_DATA_DIR: join(dataDir, 'pg'),
    PG_PORT: String(port),
    PG_PASSWORD: secrets.postgresPassword,
  });
  const urlOf = (database: string) => {
    const url = new URL(`postgres://postgres@127.0.0.1:${port}/`);
    url.password = secrets.postgresPassword;
    url.pathname = `/${database}`;
    return url.toString();
  };
  return { process: postgres, adminUrl: urlOf('postgres'), urlOf };
}

async function startDatabase(database: DatabaseServer, dataDir: string, logsDir: string): Promise<void> {
  if (database.process) {
    say(
      `starting PostgreSQL (data in ${join(dataDir, 'pg')}, its output in ${join(logsDir, 'postgres.log')})`,
    );
    await database.process.start();
  } else {
    say(`using the PostgreSQL server of DATABASE_URL (${describeDatabase(database.urlOf('postgres'))})`);
  }
}

/** The URL of each service's database, with its password, and the servers they are made on. */
interface DatabaseUrls {
  checkout: string;
  inventory: string;
  payment: string;
  /** Each server's `postgres` database, and the databases to make there. */
  servers: { adminUrl: string; databases: string[] }[];
}

/**
 * Every database on the one server; with `--ha`, the checkout's and the inventory's on the cluster (through
 * HAProxy, so always on its primary), the payment sandbox's on the embedded server.
 */
function databaseUrls(
  database: DatabaseServer,
  cluster: RunningCluster | undefined,
  secrets: StackSecrets,
): DatabaseUrls {
  if (!cluster) {
    return {
      checkout: database.urlOf(DATABASES.checkout),
      inventory: database.urlOf(DATABASES.inventory),
      payment: database.urlOf(DATABASES.payment),
      servers: [{ adminUrl: database.adminUrl, databases: Object.values(DATABASES) }],
    };
  }
  const onCluster = (name: string) => {
    const url = new URL(`postgres://postgres@${cluster.primaryHost}/${name}`);
    url.password = secrets.postgresPassword;
    return url.toString();
  };
  return {
    checkout: onCluster(DATABASES.checkout),
    inventory: onCluster(DATABASES.inventory),
    payment: database.urlOf(DATABASES.payment),
    servers: [
      { adminUrl: onCluster('postgres'), databases: [DATABASES.checkout, DATABASES.inventory] },
      { adminUrl: database.adminUrl, databases: [DATABASES.payment] },
    ],
  };
}

/** With `--ha`: the Patroni cluster, its nodes stopped before etcd, which elects them. */
async function startCluster(
  supervisor: Supervisor,
  dataDir: string,
  secrets: StackSecrets,
  replication: Replication,
): Promise<RunningCluster> {
  const cluster = await startPatroniCluster({
    dir: join(dataDir, 'ha'),
    superuserPassword: secrets.postgresPassword,
    replicationPassword: secrets.replicationPassword,
    replication,
    superviseConsensus: supervisor.superviseIn('consensus'),
    superviseDatabase: supervisor.superviseIn('postgres'),
    say,
  });
  say(
    `PostgreSQL cluster up (${replication}hronous replication), its primary behind HAProxy on ${cluster.primaryHost}`,
  );
  return cluster;
}

function clusterInfo(cluster: RunningCluster, replication: Replication): NonNullable<StackInfo['ha']> {
  return {
    replication,
    primaryHost: cluster.primaryHost,
    haproxyStatsUrl: cluster.haproxyStatsUrl,
    etcdUrl: cluster.etcdUrl,
    patroniConfig: cluster.patroniConfig,
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      postgresUrl: n.postgresUrl,
      apiUrl: n.apiUrl,
      dataDir: n.dataDir,
      pid: n.process.pid,
    })),
  };
}

/** How often stack.json's cluster roles are compared with Patroni's. */
const ROLES_EVERY_MS = 2000;

/** stack.json's node roles, as Patroni tells them, rewritten when a failover changes them. */
function followRoles(
  cluster: RunningCluster,
  ha: NonNullable<StackInfo['ha']>,
  stackFile: StackFile,
  supervisor: Supervisor,
): void {
  const look = async () => {
    if (supervisor.stopping) return;
    const roles = await rolesOf(cluster.nodes);
    if (ha.nodes.every((n) => n.role === roles[n.name])) return;
    for (const node of ha.nodes) node.role = roles[node.name];
    await stackFile.write();
  };
  void look().catch(() => {});
  setInterval(() => void look().catch(() => {}), ROLES_EVERY_MS).unref();
}

/** With `--central-logs`: rsyslog, before any service, so that their first lines reach it too. */
async function startCollector(
  supervisor: Supervisor,
  dataDir: string,
): Promise<RunningLogCollector | undefined> {
  const collector = await startLogCollector({
    dir: join(dataDir, 'collector'),
    supervise: supervisor.superviseIn('collector'),
    say,
  });
  if (collector) supervisor.shipLogsTo(collector.url);
  return collector;
}

/** Each service's database, migrated, and the demo data (its user has an open cart). */
async function migrateAndSeed(databases: DatabaseUrls): Promise<{ demoCartId: string }> {
  for (const server of databases.servers) await ensureDatabases(server.adminUrl, server.databases);
  await migrate(databases.checkout, CHECKOUT_MIGRATIONS);
  await migrate(databases.inventory, INVENTORY_MIGRATIONS);
  await migrate(databases.payment, PAYMENT_MIGRATIONS);
  say('databases migrated');
  const { demoCartId } = await seedDemoData({
    checkout: databases.checkout,
    inventory: databases.inventory,
  });
  say('demo data loaded; starting the inventory service and the payment sandbox');
  return { demoCartId };
}

interface RunningSandboxes {
  inventory: ManagedProcess;
  payment: ManagedProcess;
  inventoryUrl: string;
  paymentUrl: string;
}

/** The inventory service and the payment sandbox, side by side, on the ports asked for. */
async function startSandboxes(
  supervisor: Supervisor,
  databases: DatabaseUrls,
  secrets: StackSecrets,
  options: StackOptions,
): Promise<RunningSandboxes> {
  // Sandboxes drain at once; only the checkout, behind a load balancer in production, waits for it.
  const sandboxEnv = { SHUTDOWN_DRAIN_DELAY_MS: process.env.SHUTDOWN_DRAIN_DELAY_MS ?? '0' };
  const inventory = supervisor.supervise('sandboxes', 'inventory', '../sandbox/inventory/main.ts', {
    ...sandboxEnv,
    DATABASE_URL: databases.inventory,
  });
  const payment = supervisor.supervise('sandboxes', 'payment', '../sandbox/payment/main.ts', {
    ...sandboxEnv,
    DATABASE_URL: databases.payment,
    PAYMENT_API_KEY: secrets.paymentApiKey,
    // The checkout's port is the balancer's when there are several instances: the events go through it.
    WEBHOOK_URL: `http://127.0.0.1:${options.checkoutPort}/webhooks/stripe`,
    WEBHOOK_SECRET: secrets.webhookSecret,
  });
  const [inventoryReady, paymentReady] = await Promise.all([
    inventory.start({ PORT: String(options.inventoryPort) }),
    payment.start({ PORT: String(options.paymentPort) }),
  ]);
  return { inventory, payment, inventoryUrl: inventoryReady.url, paymentUrl: paymentReady.url };
}

/** The environment of a checkout instance: every instance of the stack's, and stack.env. */
function checkoutEnv(
  databases: DatabaseUrls,
  sandboxes: RunningSandboxes,
  secrets: StackSecrets,
): Record<string, string> {
  return {
    DATABASE_URL: databases.checkout,
    PAYMENT_PROVIDER: 'sandbox',
    STRIPE_API_BASE: sandboxes.paymentUrl,
    STRIPE_SECRET_KEY: secrets.paymentApiKey,
    STRIPE_WEBHOOK_SECRET: secrets.webhookSecret,
    INVENTORY_API_URL: sandboxes.inventoryUrl,
    JWT_SECRET: secrets.jwtSecret,
    // The dashboard's verdict reads the sandboxes' /metrics and /health beside the instance's own.
    DASHBOARD_PEER_URLS: `${sandboxes.inventoryUrl},${sandboxes.paymentUrl}`,
  };
}

/** One checkout on the checkout port, or several (`checkout-1` …) on ports of their own. */
async function startCheckouts(
  supervisor: Supervisor,
  serveEnv: Record<string, string>,
  options: StackOptions,
): Promise<ManagedProcess[]> {
  const several = options.instances > 1;
  say(several ? `starting ${options.instances} checkout instances` : 'starting the checkout service');
  const names = several
    ? Array.from({ length: options.instances }, (_, i) => `checkout-${i + 1}`)
    : ['checkout'];
  const checkouts = names.map((name) =>
    supervisor.supervise('checkout', name, '../checkout/main.ts', serveEnv),
  );
  // Behind HAProxy, as in production, each instance's operator surfaces and health checks listen apart
  // from its API: a flood of new connections on the API cannot delay the balancer's checks.
  await Promise.all(
    checkouts.map((c) =>
      c.start(
        several
          ? { PORT: '0', MANAGEMENT_PORT: '0', ADMISSION_AGENT_PORT: '0' }
          : { PORT: String(options.checkoutPort) },
      ),
    ),
  );
  return checkouts;
}

/** HAProxy on the checkout port, in front of the instances. */
function startBalancer(
  supervisor: Supervisor,
  instances: readonly StackInstance[],
  dataDir: string,
  options: StackOptions,
): ReturnType<typeof startLoadBalancer> {
  say('starting HAProxy in front of them');
  return startLoadBalancer({
    dir: join(dataDir, 'haproxy'),
    port: options.checkoutPort,
    statsPort: options.haproxyStatsPort,
    instances,
    supervise: supervisor.superviseIn('balancer'),
  });
}

/** With `--monitoring`: Prometheus scraping every service, and Alertmanager (undefined when not installed). */
async function startMonitoringIfAsked(
  supervisor: Supervisor,
  instances: readonly StackInstance[],
  sandboxes: RunningSandboxes,
  dataDir: string,
  options: StackOptions,
): Promise<RunningMonitoring | undefined> {
  if (!options.monitoring) return undefined;
  return startMonitoring({
    dir: join(dataDir, 'monitoring'),
    targets: [
      ...instances.map((i) => ({ service: 'checkout', url: i.managementUrl ?? i.url })),
      { service: 'inventory', url: sandboxes.inventoryUrl },
      { service: 'payment-sandbox', url: sandboxes.paymentUrl },
    ],
    ...options.monitoring,
    supervise: supervisor.superviseIn('monitoring'),
    say,
  });
}
