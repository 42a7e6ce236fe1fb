import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import pg from 'pg';
import Type from 'typebox';
import { CheckoutSettings, REQUIRED_IN_PRODUCTION } from '../checkout/config.ts';
import { loadConfig } from '../platform/config/loadConfig.ts';
import * as platformSettings from '../platform/config/settings.ts';
import { HaproxyAdmin } from '../stack/HaproxyAdmin.ts';
import type { StackInfo } from '../stack/stackFile.ts';
import { checkoutBackend, type Deployment } from './checks.ts';
import { parseHaproxyConfig } from './haproxyConfig.ts';

/** A running HAProxy answers its admin socket at once; one that does not is reported, not waited on. */
const ADMIN_TIMEOUT_MS = 3000;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHIPPED_HAPROXY_CONFIG = join(ROOT, 'ops', 'haproxy', 'haproxy.cfg');

/** What the doctor read, or could not, and why: said in its report, never silently left out. */
export interface SourceRead {
  source: 'haproxy_config' | 'settings' | 'postgres' | 'stack' | 'balancer';
  state: 'read' | 'unavailable';
  detail: string;
}

export interface Gathered {
  deployment?: Deployment;
  read: SourceRead[];
  /** Settings the service itself would refuse to start with (loadConfig's problems). */
  settingProblems: string[];
}

/** The file given as HAProxy's configuration is none at all (the doctor's usage, not a finding). */
export class NotHaproxyConfigError extends Error {}

export interface GatherOptions {
  env: NodeJS.ProcessEnv;
  haproxyConfig?: string | undefined;
  instances?: number | undefined;
  dataDir: string;
}

/** Names of the settings the platform declares; the rest of the checkout's are the checkout's own. */
const PLATFORM_SETTING_NAMES = new Set(
  Object.values(platformSettings).flatMap((group) => (typeof group === 'object' ? Object.keys(group) : [])),
);

/** Reads the shipped (or given) configuration and the running one, as far as each answers. */
export async function gather(options: GatherOptions): Promise<Gathered> {
  const read: SourceRead[] = [];
  const stack = await readStack(options.dataDir, read);
  // As reconcile does: a local stack's settings when none are given.
  const env = { ...options.env };
  if (!env.DATABASE_URL && stack) {
    const stackEnv = join(options.dataDir, 'stack.env');
    if (existsSync(stackEnv)) Object.assign(env, parseEnv(await readFile(stackEnv, 'utf8')), options.env);
  }

  const haproxyFile = options.haproxyConfig ?? SHIPPED_HAPROXY_CONFIG;
  const haproxyText = await readFile(haproxyFile, 'utf8');
  const haproxy = parseHaproxyConfig(haproxyText, env);
  const shownFile = relative(process.cwd(), haproxyFile).startsWith('..')
    ? haproxyFile
    : relative(process.cwd(), haproxyFile);
  // A README or an empty file has no backend: every check would be skipped and the report say clean.
  if (haproxy.notAConfiguration)
    throw new NotHaproxyConfigError(
      `${shownFile} is not a HAProxy configuration: ${haproxy.notAConfiguration}`,
    );
  read.push({
    source: 'haproxy_config',
    state: 'read',
    detail: `${shownFile} (placeholders from this environment)`,
  });

  // DATABASE_URL names a server, not a setting the checks need: without it the rest is still checked.
  const databaseUrl = env.DATABASE_URL;
  const loaded = loadConfig(
    CheckoutSettings,
    databaseUrl ? env : { ...env, DATABASE_URL: 'postgres://unset/' },
    {
      requiredInProduction: REQUIRED_IN_PRODUCTION.filter((name) => name !== 'DATABASE_URL'),
    },
  );
  if (!loaded.ok) {
    read.push({
      source: 'settings',
      state: 'unavailable',
      detail: 'the service would refuse these settings',
    });
    return { read, settingProblems: loaded.problems };
  }
  read.push({
    source: 'settings',
    state: 'read',
    detail: `the checkout's settings from this environment, defaults for the rest (NODE_ENV=${loaded.config.NODE_ENV})`,
  });

  const backend = checkoutBackend(haproxy);
  const instances =
    options.instances !== undefined
      ? { count: options.instances, source: '--instances' }
      : stack
        ? { count: stack.instances.length, source: 'the running stack' }
        : { count: Math.max(1, backend?.servers.length ?? 1), source: `server lines in ${shownFile}` };

  if (!databaseUrl)
    read.push({ source: 'postgres', state: 'unavailable', detail: 'DATABASE_URL is not set' });
  const postgres = databaseUrl
    ? await readPostgresLimits(databaseUrl, loaded.config.DB_CONNECT_TIMEOUT_MS, read)
    : undefined;

  // In a local stack the sandboxes' databases are on the checkout's server, their pools sized alike.
  const sharesServer = stack && databaseUrl && sameServer(stack.databaseUrl, databaseUrl);
  const sandboxPool = loadConfig(
    Type.Object({ DB_POOL_MAX: platformSettings.databaseSettings.DB_POOL_MAX }),
    env,
  );
  const sandboxPools =
    sharesServer && sandboxPool.ok ? { count: 2, poolMax: sandboxPool.config.DB_POOL_MAX } : undefined;

  const balancer = await readBalancer(haproxy.statsSocket, stack, options.dataDir, read);

  return {
    read,
    settingProblems: [],
    deployment: {
      haproxy: { file: shownFile, config: haproxy },
      settings: loaded.config,
      settingSource: (name) => ({
        file: PLATFORM_SETTING_NAMES.has(name) ? 'src/platform/config/settings.ts' : 'src/checkout/config.ts',
        fromEnvironment: env[name] !== undefined && env[name] !== '',
      }),
      instances,
      postgres,
      sandboxPools,
      balancer,
    },
  };
}

async function readStack(dataDir: string, read: SourceRead[]): Promise<StackInfo | undefined> {
  const path = join(dataDir, 'stack.json');
  if (!existsSync(path)) {
    read.push({ source: 'stack', state: 'unavailable', detail: `no running stack (${path})` });
    return undefined;
  }
  const info = JSON.parse(await readFile(path, 'utf8')) as StackInfo;
  if (!isAlive(info.pids?.supervisor)) {
    read.push({
      source: 'stack',
      state: 'unavailable',
      detail: `${path} is left from a stack that is not running`,
    });
    return undefined;
  }
  read.push({
    source: 'stack',
    state: 'read',
    detail: `${path}: ${info.instances.length} checkout instance(s)`,
  });
  return info;
}

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sameServer(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432');
  } catch {
    return false;
  }
}

/** `SHOW` of the limits, over one connection of its own, within the service's own connect timeout. */
async function readPostgresLimits(
  url: string,
  timeoutMs: number,
  read: SourceRead[],
): Promise<Deployment['postgres']> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'steadfast-doctor',
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const show = async (name: string) => Number((await client.query(`SHOW ${name}`)).rows[0]?.[name]);
    const maxConnections = await show('max_connections');
    const superuserReserved = await show('superuser_reserved_connections');
    // PostgreSQL 16 added slots reserved for pg_use_reserved_connections; before, there are none.
    const reserved = await show('reserved_connections').catch(() => 0);
    read.push({
      source: 'postgres',
      state: 'read',
      detail: `max_connections ${maxConnections}, superuser_reserved_connections ${superuserReserved}${reserved ? `, reserved_connections ${reserved}` : ''}`,
    });
    return { maxConnections, superuserReserved, reserved };
  } catch (error) {
    read.push({
      source: 'postgres',
      state: 'unavailable',
      detail: `DATABASE_URL did not answer within ${timeoutMs} ms (${(error as Error).message}): max_connections not read`,
    });
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The running HAProxy's servers, over its admin socket: the local stack's (`<data dir>/haproxy/admin.sock`),
 * or the one the configuration names when that socket exists on this machine.
 */
async function readBalancer(
  configSocket: string | undefined,
  stack: StackInfo | undefined,
  dataDir: string,
  read: SourceRead[],
): Promise<Deployment['balancer']> {
  const socket = stack?.haproxyStatsUrl ? join(dataDir, 'haproxy', 'admin.sock') : configSocket;
  const several = stack ? stack.instances.length > 1 : true;
  if (!socket || !several || !isSocket(socket)) {
    read.push({
      source: 'balancer',
      state: 'unavailable',
      detail:
        stack && !stack.haproxyStatsUrl
          ? 'the running stack has one instance, no HAProxy'
          : `no HAProxy admin socket at ${socket ?? '(none configured)'}`,
    });
    return undefined;
  }
  try {
    const servers = await Promise.race([
      new HaproxyAdmin(socket, 'checkout').servers(),
      sleep(ADMIN_TIMEOUT_MS).then(() => {
        throw new Error(`no answer within ${ADMIN_TIMEOUT_MS} ms`);
      }),
    ]);
    read.push({
      source: 'balancer',
      state: 'read',
      detail: `${socket}: ${Object.keys(servers).length} server(s)`,
    });
    return {
      servers: Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, s.status])),
      expected: stack ? stack.instances.map((i) => i.name) : [],
    };
  } catch (error) {
    read.push({ source: 'balancer', state: 'unavailable', detail: `${socket}: ${(error as Error).message}` });
    return undefined;
  }
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
