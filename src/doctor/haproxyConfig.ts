/**
 * The parts of an HAProxy configuration the doctor checks, read the way HAProxy 2.6 reads them: words
 * split on blanks, `#` comments, `"..."` (environment variables expanded) and `'...'` (nothing expanded),
 * times in milliseconds unless a unit says otherwise, and each proxy taking the `defaults` section above it.
 */

/** A value and the line it came from, so a finding can say where to change it. */
export interface Located<T> {
  value: T;
  line: number;
}

export interface ProxyTimeouts {
  client?: Located<number>;
  server?: Located<number>;
  httpRequest?: Located<number>;
  httpKeepAlive?: Located<number>;
  check?: Located<number>;
}

export interface HealthCheckCadence {
  /** `check` given: HAProxy checks the server's health at all. */
  enabled?: boolean;
  inter?: Located<number>;
  fastinter?: Located<number>;
  fall?: Located<number>;
}

export interface BackendServer {
  name: string;
  address: string;
  line: number;
  /** `default-server`'s values, overridden by the server line's own. */
  check: HealthCheckCadence;
}

export interface Backend {
  name: string;
  line: number;
  /** Its own timeouts over those of the `defaults` section above it. */
  timeouts: ProxyTimeouts;
  servers: BackendServer[];
}

export interface Frontend {
  name: string;
  line: number;
  timeouts: ProxyTimeouts;
  defaultBackend?: string;
}

export interface HaproxyConfig {
  /** The `defaults` sections' and the frontends' timeouts (the client side is the frontend's). */
  frontends: Frontend[];
  backends: Backend[];
  /** `stats socket` of `global`, resolved. */
  statsSocket?: string;
  /** Values that HAProxy itself would refuse (an empty placeholder, a bad time). */
  problems: { line: number; message: string }[];
  /**
   * Why the text is no HAProxy configuration at all (a README, an empty file): a line outside any
   * section, which HAProxy refuses, or no section. Absent for a configuration.
   */
  notAConfiguration?: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** HAProxy's time format: digits, then an optional unit (us, ms, s, m, h, d); milliseconds without one. */
export function haproxyTimeMs(text: string): number | undefined {
  const match = /^([0-9]+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
}

/**
 * One line's words. Inside double quotes `$NAME` and `${NAME}` are the environment's value (empty when
 * unset), `${NAME-default}` the default when NAME is unset (not when it is empty, as HAProxy does);
 * outside double quotes a `$` is only a character.
 */
export function words(line: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '$') {
        const [value, length] = variable(line.slice(i), env);
        word += value;
        i += length - 1;
      } else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '#') break;
    else if (c === ' ' || c === '\t') {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** The value of the variable at the start of `text` (which begins with `$`), and how many characters it took. */
function variable(text: string, env: NodeJS.ProcessEnv): [string, number] {
  const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:-([^}]*))?\}/.exec(text);
  if (braced) {
    const [whole, name = '', fallback] = braced;
    const value = env[name];
    return [value ?? fallback ?? '', whole.length];
  }
  const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text);
  if (bare) return [env[bare[1] ?? ''] ?? '', bare[0].length];
  return ['$', 1];
}

/** Every section HAProxy 2.6 knows: a line before the first of them is one it refuses. */
const SECTIONS = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'peers',
  'resolvers',
  'userlist',
  'mailers',
  'cache',
  'program',
  'ring',
  'http-errors',
  'fcgi-app',
  'log-forward',
  'namespace_list',
]);
const TIMEOUTS: Record<string, keyof ProxyTimeouts> = {
  client: 'client',
  server: 'server',
  'http-request': 'httpRequest',
  'http-keep-alive': 'httpKeepAlive',
  check: 'check',
};
const CADENCE: Record<string, 'inter' | 'fastinter' | 'fall'> = {
  inter: 'inter',
  fastinter: 'fastinter',
  fall: 'fall',
};

/** Reads the configuration's text with the environment HAProxy would be started with. */
export function parseHaproxyConfig(text: string, env: NodeJS.ProcessEnv): HaproxyConfig {
  const config: HaproxyConfig = { frontends: [], backends: [], problems: [] };
  let section = '';
  let defaults: { timeouts: ProxyTimeouts; check: HealthCheckCadence } = { timeouts: {}, check: {} };
  let proxy: { timeouts: ProxyTimeouts; check: HealthCheckCadence } | undefined;
  let backend: Backend | undefined;
  let frontend: Frontend | undefined;
  const time = (word: string | undefined, line: number, what: string): Located<number> | undefined => {
    const ms = haproxyTimeMs(word ?? '');
    if (ms === undefined) {
      config.problems.push({ line, message: `${what}: '${word ?? ''}' is not a time (such as 500ms, 5s)` });
      return undefined;
    }
    return { value: ms, line };
  };
  let outsideSections: { line: number; keyword: string } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const [keyword, ...args] = words(raw, env);
    if (!keyword) return;
    // `.if`, `.notice` and the like are HAProxy's preprocessor's, allowed before any section.
    if (!section && !SECTIONS.has(keyword) && !keyword.startsWith('.')) {
      outsideSections ??= { line, keyword };
      return;
    }
    if (SECTIONS.has(keyword)) {
      section = keyword;
      backend = undefined;
      frontend = undefined;
      if (keyword === 'defaults') {
        // A new defaults section starts afresh, as HAProxy's does.
        defaults = { timeouts: {}, check: {} };
        proxy = defaults;
      } else if (keyword === 'frontend' || keyword === 'backend' || keyword === 'listen') {
        proxy = { timeouts: { ...defaults.timeouts }, check: { ...defaults.check } };
        const name = args[0] ?? '';
        if (keyword !== 'backend') {
          frontend = { name, line, timeouts: proxy.timeouts };
          config.frontends.push(frontend);
        }
        if (keyword !== 'frontend') {
          backend = { name, line, timeouts: proxy.timeouts, servers: [] };
          config.backends.push(backend);
        }
      } else proxy = undefined;
      return;
    }
    if (section === 'global' && keyword === 'stats' && args[0] === 'socket') {
      config.statsSocket = args[1];
      return;
    }
    if (!proxy) return;
    if (keyword === 'timeout') {
      const key = TIMEOUTS[args[0] ?? ''];
      if (key) {
        const value = time(args[1], line, `timeout ${args[0]}`);
        if (value) proxy.timeouts[key] = value;
      }
      return;
    }
    if (keyword === 'default_backend' && frontend) {
      frontend.defaultBackend = args[0];
      return;
    }
    if (keyword === 'default-server') {
      Object.assign(proxy.check, cadence(args, line, time, config));
      return;
    }
    if (keyword === 'server' && backend) {
      const [name = '', address = '', ...options] = args;
      backend.servers.push({
        name,
        address,
        line,
        check: { ...proxy.check, ...cadence(options, line, time, config) },
      });
    }
  });
  if (outsideSections) {
    // The keyword is the file's own text, shown on a terminal: printable ASCII only, and short.
    const shown = outsideSections.keyword.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
    config.notAConfiguration = `line ${outsideSections.line} ('${shown}') is in no section, as HAProxy says ("unknown keyword out of section")`;
  } else if (!section) {
    config.notAConfiguration = 'it has no section (global, defaults, frontend, backend, listen...)';
  }
  return config;
}

/** `inter`, `fastinter` and `fall` among a server line's options. */
function cadence(
  options: string[],
  line: number,
  time: (word: string | undefined, line: number, what: string) => Located<number> | undefined,
  config: HaproxyConfig,
): HealthCheckCadence {
  const found: HealthCheckCadence = {};
  for (let i = 0; i < options.length; i++) {
    if (options[i] === 'check') found.enabled = true;
    if (options[i] === 'no-check') found.enabled = false;
    const key = CADENCE[options[i] ?? ''];
    if (!key) continue;
    const word = options[++i];
    if (key === 'fall') {
      const count = /^[0-9]+$/.test(word ?? '') ? Number(word) : 0;
      if (count >= 1) found.fall = { value: count, line };
      else config.problems.push({ line, message: `fall: '${word ?? ''}' is not a whole number of checks` });
    } else {
      const value = time(word, line, key);
      if (value) found[key] = value;
    }
  }
  return found;
}
