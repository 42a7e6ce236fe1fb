#!/usr/bin/env node
/**
 * `steadfast`: the command line (docs/architecture.md section 10). Each command is a thin call into the layer that
 * owns the work; nothing here knows how checkout, preflight or the stack do theirs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { dataDirOf } from '../stack/dataDir.ts';
import { parseOptions } from './parseOptions.ts';

const USAGE = `Usage: steadfast <command> [options]

Commands:
  start [--instances N] [--monitoring] [--central-logs] [--ha [--replication sync|async]]
        [--quiet|--verbose]
                               the whole stack on this machine (embedded PostgreSQL, or the server of
                               DATABASE_URL when set; sandboxes; checkout, N instances behind HAProxy
                               with --instances); --monitoring adds Prometheus
                               and Alertmanager; --central-logs ships every service's lines to a
                               local rsyslog, one file per service and day; --ha puts the services'
                               databases on two PostgreSQL nodes under Patroni and etcd, behind
                               HAProxy (synchronous replication unless --replication async); the
                               terminal shows warnings and errors (--verbose: all)
  serve                        the checkout service alone, every setting from the environment
  preflight                    the startup validation alone: exit 0, or 1 with every problem listed
  migrate [--status] [--service checkout|inventory|payment]
                               runs pending migrations on DATABASE_URL, or lists them
  reconcile [--repair [--apply]]
                               checks the checkout invariants across database, inventory and gateway;
                               exit 1 listing every breach. --repair prints what would settle what a
                               lost commit left (refunds, releases); --apply does it. Exit 0 clean,
                               1 a breach (or, dry, an action) remains, 2 bad usage
  restart --rolling            restarts the checkout instances of a running "steadfast start" one by one,
                               each drained at HAProxy first: no request fails
  token --user <id> [--ttl 1h] prints a development bearer token
  doctor [--haproxy-config <file>] [--instances N] [--format text|json]
                               checks the deployment's configuration before it bites: timeouts in order,
                               keep-alive, pools against max_connections, health checks against the
                               drain, every instance UP. Exit 0 nothing found, 1 findings, 2 bad usage,
                               3 the doctor itself failed
  triage [--logs <file|dir|->]... [--metrics <url|file>]... [--health <url>]... [--since 30m]
         [--format text|json] [--error-id ERR-...] [--timeout 60s] [--max-decompressed 256m]
         [--haproxy-config <file>]
                               the decision tree of 5xx on logs, metrics and health: when, which
                               category, which exception where, the root cause, what to do; with no
                               source, the local stack. Exit 0 healthy, 1 a problem, 2 bad usage,
                               3 unknown (too little read to tell), 4 triage failed

Environment: see docs/configuration.md. A .env file in the working directory is read first;
reconcile and token fall back to the local stack's settings (<data dir>/stack.env) when DATABASE_URL is unset.`;

const [command, ...rest] = process.argv.slice(2);
if (existsSync('.env')) process.loadEnvFile('.env');

/** Bad usage: what was wrong and the usage on stderr, exit 2, before anything is started. */
function usageError(problem: string, prefix = `steadfast ${command}`): never {
  process.stderr.write(`${prefix}: ${problem}\n\n${USAGE}\n`);
  process.exit(2);
}

/**
 * The command's options, strictly: an unknown flag, a missing value, a stray argument or an option of one
 * value given twice is bad usage.
 */
function options<T extends ParseArgsOptionsConfig>(config: T) {
  if (rest.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  try {
    return parseOptions(rest, config);
  } catch (error) {
    // The message names the flag ("Unknown option '--x'", "Option '--ttl <value>' argument missing").
    if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_'))
      usageError((error as Error).message);
    throw error;
  }
}

/** The migrations of each service, by the name `--service` takes. */
const MIGRATIONS = {
  checkout: async () => (await import('../checkout/main.ts')).CHECKOUT_MIGRATIONS,
  inventory: async () => (await import('../sandbox/inventory/main.ts')).INVENTORY_MIGRATIONS,
  payment: async () => (await import('../sandbox/payment/main.ts')).PAYMENT_MIGRATIONS,
};

switch (command) {
  case 'start': {
    const values = options({
      quiet: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      monitoring: { type: 'boolean', default: false },
      instances: { type: 'string', default: '1' },
      ha: { type: 'boolean', default: false },
      replication: { type: 'string' },
      'central-logs': { type: 'boolean', default: false },
    });
    const instances = wholeNumber(values.instances);
    if (instances === undefined || instances < 1 || instances > 32) {
      usageError('--instances takes a whole number from 1 to 32');
    }
    if (values.quiet && values.verbose) usageError('--quiet and --verbose exclude each other');
    const env = process.env;
    if (values.replication !== undefined && !values.ha) usageError('--replication goes with --ha');
    const replication = values.replication ?? 'sync';
    if (replication !== 'sync' && replication !== 'async') usageError('--replication is sync or async');
    if (values.ha && env.DATABASE_URL) usageError('--ha runs its own PostgreSQL cluster: unset DATABASE_URL');
    const { startStack } = await import('../stack/startStack.ts');
    await startStack({
      dataDir: dataDirOf(env),
      checkoutPort: Number(env.PORT ?? 3000),
      inventoryPort: Number(env.INVENTORY_PORT ?? 3001),
      paymentPort: Number(env.PAYMENT_PORT ?? 3002),
      instances,
      haproxyStatsPort: Number(env.HAPROXY_STATS_PORT ?? 8404),
      echo: values.quiet ? 'quiet' : values.verbose ? 'verbose' : 'problems',
      logMaxSize: env.LOG_FILE_MAX_SIZE ?? '10m',
      logRetention: Number(env.LOG_FILE_RETENTION ?? 5),
      databaseUrl: env.DATABASE_URL,
      ha: values.ha ? { replication } : undefined,
      centralLogs: values['central-logs'],
      monitoring: values.monitoring
        ? {
            prometheusPort: Number(env.PROMETHEUS_PORT ?? 9090),
            alertmanagerPort: Number(env.ALERTMANAGER_PORT ?? 9093),
          }
        : undefined,
    });
    break;
  }
  case 'serve': {
    options({});
    const { bootService } = await import('../platform/process/bootService.ts');
    const { checkoutService } = await import('../checkout/main.ts');
    await bootService(checkoutService);
    break;
  }
  case 'preflight': {
    options({});
    const { preflightService } = await import('../platform/process/bootService.ts');
    const { reportStartupFailure } = await import('../platform/preflight/preflight.ts');
    const { createBootLogger } = await import('../platform/logging/createLogger.ts');
    const { checkoutService } = await import('../checkout/main.ts');
    const outcome = await preflightService(checkoutService, process.env);
    if (outcome.ok) process.stdout.write('preflight: all checks passed\n');
    else reportStartupFailure(outcome.problems, createBootLogger('checkout', 'preflight'));
    break;
  }
  case 'migrate': {
    const values = options({
      status: { type: 'boolean', default: false },
      service: { type: 'string', default: 'checkout' },
    });
    if (!Object.hasOwn(MIGRATIONS, values.service)) {
      usageError(`--service is one of ${Object.keys(MIGRATIONS).join(', ')}`);
    }
    await runMigrate(values.service as keyof typeof MIGRATIONS, values.status);
    break;
  }
  case 'reconcile': {
    const values = options({
      repair: { type: 'boolean', default: false },
      apply: { type: 'boolean', default: false },
    });
    if (values.apply && !values.repair) usageError('--apply acts on the plan of --repair: give both');
    useLocalStack();
    await runReconcile(values.repair ? { apply: values.apply } : undefined);
    break;
  }
  case 'restart': {
    const values = options({ rolling: { type: 'boolean', default: false } });
    if (!values.rolling) usageError('only --rolling is supported');
    const { requestRollingRestart } = await import('../stack/requestRollingRestart.ts');
    process.exitCode = await requestRollingRestart(dataDirOf());
    break;
  }
  case 'token': {
    const values = options({ user: { type: 'string' }, ttl: { type: 'string', default: '1h' } });
    await printToken(values.user, values.ttl);
    break;
  }
  case 'doctor': {
    const { runDoctor } = await import('../doctor/doctorCommand.ts');
    process.exitCode = await runDoctor(rest, process.env);
    break;
  }
  case 'triage': {
    const { runTriage } = await import('../triage/triageCommand.ts');
    process.exitCode = await runTriage(rest, process.env);
    break;
  }
  case undefined:
  case 'help':
  case '--help':
    process.stdout.write(`${USAGE}\n`);
    break;
  default:
    usageError(`unknown command '${command}'`, 'steadfast');
}

/** A whole number written in decimal digits (`Number` alone takes '', '1e3', '0x10' and ' 2 '). */
function wholeNumber(text: string): number | undefined {
  return /^[0-9]{1,9}$/.test(text) ? Number(text) : undefined;
}

async function runMigrate(service: keyof typeof MIGRATIONS, statusOnly: boolean) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write("STARTUP_FAILURE: Required environment variable 'DATABASE_URL' is not set.\n");
    process.exitCode = 1;
    return;
  }
  const dir = await MIGRATIONS[service]();
  const { migrate, migrationStatus } = await import('../platform/database/migrations.ts');
  if (!statusOnly) {
    const ran = await migrate(url, dir);
    process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'nothing to migrate\n');
  }
  const status = await migrationStatus(url, dir);
  for (const name of status.known) {
    process.stdout.write(`${status.applied.includes(name) ? '[x]' : '[ ]'} ${name}\n`);
  }
  process.stdout.write(`schema version ${status.version}, this build expects ${status.expected}\n`);
}

/** `repair` absent: report only. Present: plan what settles a lost commit's leftovers, and with `apply` do it. */
async function runReconcile(repair?: { apply: boolean }) {
  const { loadConfig } = await import('../platform/config/loadConfig.ts');
  const { CheckoutSettings } = await import('../checkout/config.ts');
  const loaded = loadConfig(CheckoutSettings, process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`STARTUP_FAILURE: ${problem}\n`);
    process.exitCode = 1;
    return;
  }
  const { createBootLogger } = await import('../platform/logging/createLogger.ts');
  const { databaseFromSettings } = await import('../platform/database/Database.ts');
  const { createGateways } = await import('../checkout/gateways/createGateways.ts');
  const { reconcile } = await import('../checkout/reconcile.ts');
  const db = databaseFromSettings(loaded.config, 'reconcile');
  // A repair's log goes to stderr, so that stdout holds its report alone, one line per action.
  const logger = createBootLogger('reconcile', 'cli', repair ? 2 : 1);
  const gateways = createGateways(loaded.config, logger);
  const deps = { db, inventory: gateways.inventory, payment: gateways.payment };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const report = await reconcile(deps);
    const { charges, orders, skus } = report.checked;
    out(`reconcile: ${charges} charges, ${orders} orders, ${skus} SKUs checked`);
    for (const breach of report.breaches) out(`BREACH ${breach.kind}: ${breach.detail}`);
    if (report.awaitingRecheck > 0) {
      out(`pending: ${report.awaitingRecheck} unwound attempt(s) await a second look for a late charge`);
    }
    out(report.breaches.length ? `${report.breaches.length} breach(es)` : 'clean');
    if (!repair) {
      process.exitCode = report.breaches.length ? 1 : 0;
      return;
    }
    const { applyRepair, describeAction, gatherRepairFacts, planRepair } = await import(
      '../checkout/repair.ts'
    );
    const plan = planRepair(await gatherRepairFacts({ ...deps, breaches: report.breaches }));
    if (!repair.apply) {
      for (const action of plan.actions) out(`PLAN ${describeAction(action)}`);
      for (const left of plan.left) out(`LEFT ${left.kind}: ${left.detail} (${left.why})`);
      out(
        plan.actions.length
          ? `repair: ${plan.actions.length} action(s) planned, nothing changed; --apply to act`
          : 'repair: nothing to repair',
      );
      process.exitCode = plan.actions.length || plan.left.length ? 1 : 0;
      return;
    }
    const outcomes = await applyRepair(plan.actions, { ...deps, log: logger });
    for (const outcome of outcomes) {
      out(
        outcome.done
          ? `DONE ${describeAction(outcome.action)}`
          : `FAILED ${describeAction(outcome.action)} (${outcome.error.message}; run again)`,
      );
    }
    const failed = outcomes.filter((o) => !o.done).length;
    // What stands now, judged afresh: the breaches the actions settled are gone, the others remain.
    const after = await reconcile(deps);
    for (const breach of after.breaches) out(`LEFT ${breach.kind}: ${breach.detail}`);
    out(
      `repair: ${outcomes.length - failed} done, ${failed} failed; ${after.breaches.length ? `${after.breaches.length} breach(es) left` : 'clean'}`,
    );
    process.exitCode = failed || after.breaches.length ? 1 : 0;
  } catch (error) {
    // A dependency that does not answer is no breach found: nothing could be told (exit 3, as triage's
    // unknown), and whatever a repair did so far is in its DONE lines and its log.
    const { DependencyUnavailableError } = await import('../platform/errors/DependencyUnavailableError.ts');
    if (!(error instanceof DependencyUnavailableError)) throw error;
    process.stderr.write(
      `reconcile: ${error.dependency} did not answer (${error.reason}); run it again once it answers\n`,
    );
    process.exitCode = 3;
  } finally {
    await gateways.close();
    await db.close();
  }
}

/** Settings of the local stack (`steadfast start`), when none are given: so `steadfast reconcile` just works. */
function useLocalStack() {
  const path = join(dataDirOf(), 'stack.env');
  if (!process.env.DATABASE_URL && existsSync(path)) process.loadEnvFile(path);
}

async function printToken(user: string | undefined, ttl: string) {
  if (process.env.NODE_ENV === 'production') {
    process.stderr.write(
      'steadfast token: refused when NODE_ENV=production (tokens come from your identity provider)\n',
    );
    process.exitCode = 1;
    return;
  }
  const { signToken, MAX_USER_ID_LENGTH } = await import('../checkout/auth.ts');
  const { isStorableText } = await import('../platform/http/storableText.ts');
  if (!user) usageError('--user <id> is required');
  if (user.length > MAX_USER_ID_LENGTH || !isStorableText(user)) {
    usageError(`--user takes a user id of 1 to ${MAX_USER_ID_LENGTH} characters, no control characters`);
  }
  const maxTtlSeconds = await tokenMaxTtlSeconds();
  const ttlSeconds = durationSeconds(ttl);
  if (ttlSeconds === undefined || ttlSeconds < 1 || ttlSeconds > maxTtlSeconds) {
    usageError(
      `--ttl takes a duration such as 90s, 30m, 1h or 7d, at most JWT_MAX_TTL_SECONDS (${maxTtlSeconds} s)`,
    );
  }
  const secret = process.env.JWT_SECRET ?? stackSecret();
  if (!secret) {
    process.stderr.write(
      'steadfast token: set JWT_SECRET, or run `steadfast start` first to make a local stack\n',
    );
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${await signToken(secret, user, `${ttlSeconds}s`)}\n`);
}

/** `90s`, `30m`, `1h`, `7d` in seconds; undefined for anything else. */
function durationSeconds(text: string): number | undefined {
  const match = /^([0-9]{1,9})([smhd])$/.exec(text);
  if (!match) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** The service's own bound (JWT_MAX_TTL_SECONDS), so a token minted here is one it accepts. */
async function tokenMaxTtlSeconds(): Promise<number> {
  const { default: Type } = await import('typebox');
  const { loadConfig } = await import('../platform/config/loadConfig.ts');
  const { CheckoutSettings } = await import('../checkout/config.ts');
  const schema = Type.Object({ JWT_MAX_TTL_SECONDS: CheckoutSettings.properties.JWT_MAX_TTL_SECONDS });
  const loaded = loadConfig(schema, process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) process.stderr.write(`STARTUP_FAILURE: ${problem}\n`);
    process.exit(1);
  }
  return loaded.config.JWT_MAX_TTL_SECONDS;
}

/** The JWT secret of the local stack, so a token made here is accepted by `steadfast start`'s checkout. */
function stackSecret(): string | undefined {
  const path = join(dataDirOf(), 'secrets.json');
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { jwtSecret: string }).jwtSecret
    : undefined;
}
