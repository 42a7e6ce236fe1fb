/**
 * Log templates: what the failing lines say, for errors no rule of the decision tree knows. Messages are
 * clustered as Drain does (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree",
 * 2017): variable parts become `<*>`, a fixed-depth tree picks the clusters of the same token count and
 * leading tokens, and a message joins the most similar of them (the share of tokens in the same place
 * equal) when that share reaches the threshold, turning the tokens that differ into `<*>`; else it starts
 * a cluster of its own.
 *
 * Memory is bounded whatever the log: at most `maxClusters` templates of at most `maxTokens` tokens and
 * `maxText` characters each, and at most `maxBuckets` one-second counts over all of them. What a cap
 * turns away is counted (`dropped`), never silently lost.
 */

/** A variable part of a message. */
export const WILDCARD = '<*>';

export interface TemplateOptions {
  maxClusters: number;
  maxTokens: number;
  maxText: number;
  /** One-second counts kept over all templates; past this a line's time is lost, not its count. */
  maxBuckets: number;
  /** Share of tokens that must be equal (in place) for a message to join a cluster. */
  similarity: number;
  /** Leading tokens the tree branches on, after the token count. */
  depth: number;
  /** Children an inner node holds; past this, new tokens share the wildcard branch. */
  maxChildren: number;
  /** Clusters a leaf holds: each message is compared with those of its leaf, so this bounds its cost. */
  maxPerLeaf: number;
}

export const DEFAULT_TEMPLATE_OPTIONS: TemplateOptions = {
  maxClusters: 500,
  maxTokens: 40,
  maxText: 200,
  maxBuckets: 50_000,
  similarity: 0.6,
  depth: 2,
  maxChildren: 100,
  maxPerLeaf: 50,
};

/** A message longer than this is cut before it is split: a line of a megabyte costs its head only. */
const MAX_MESSAGE = 2000;
const SECOND_MS = 1000;

export interface TemplateSample {
  at: string;
  time?: string;
  line: string;
}

export interface Template {
  /** A message's words (warn and above), or a 5xx answer kept literal. */
  of: 'message' | 'answer';
  tokens: string[];
  count: number;
  first: number;
  last: number;
  /** Count by second (epoch ms of the second's start). */
  seconds: Map<number, number>;
  /** Counted, but their second not kept: the bucket cap was reached. */
  untimed: number;
  sample: TemplateSample;
}

interface Node {
  children: Map<string, Node>;
  clusters: Template[];
}

/** Parametrised tokens of a message: numbers, ids, hex, quoted values, paths and URLs become `<*>`. */
export function tokensOf(message: string, maxTokens = DEFAULT_TEMPLATE_OPTIONS.maxTokens): string[] {
  // A quoted value may hold spaces: it is one variable, whatever is inside.
  const unquoted = message
    .slice(0, MAX_MESSAGE)
    .replace(/"[^"\n]{0,200}"|'[^'\n]{0,200}'|`[^`\n]{0,200}`/g, WILDCARD);
  const tokens: string[] = [];
  for (const raw of unquoted.split(/\s+/)) {
    if (!raw) continue;
    if (tokens.length === maxTokens) {
      tokens.push('…');
      break;
    }
    tokens.push(isVariable(raw) ? WILDCARD : raw);
  }
  return tokens;
}

const HAS_DIGIT = /\d/;
const HEX = /^(0x)?[0-9a-f]{8,}[,.;:)]*$/i;
const PATH_OR_URL = /^[(["]*([a-z][a-z0-9+.-]*:\/\/|\.{0,2}\/|~\/|[a-z]:\\)/i;

/**
 * A token that names one thing rather than the kind of thing: it has a digit (counts, ports, addresses,
 * UUIDs, `ERR-...` ids, durations), is a long hex string, or is a path or URL. Drain treats tokens with
 * digits the same way; words alone are the template.
 */
function isVariable(token: string): boolean {
  if (token === WILDCARD) return false;
  return HAS_DIGIT.test(token) || HEX.test(token) || PATH_OR_URL.test(token);
}

/** The clusters of messages, in one pass, memory bounded by the options. */
export class LogTemplates {
  readonly options: TemplateOptions;
  readonly #root: Node = { children: new Map(), clusters: [] };
  /** Literal templates (a 5xx answer: status, error code and route) by their text. */
  readonly #literal = new Map<string, Template>();
  #clusters = 0;
  #buckets = 0;
  /** Messages no cluster could take: the cluster cap was reached. */
  dropped = 0;
  /** The span of the lines that were offered, failing or not: the windows are measured on it. */
  firstSeen: number | undefined;
  lastSeen: number | undefined;

  constructor(options: Partial<TemplateOptions> = {}) {
    this.options = { ...DEFAULT_TEMPLATE_OPTIONS, ...options };
  }

  get size(): number {
    return this.#clusters;
  }

  /** Every template, literal ones included. */
  all(): Template[] {
    const out: Template[] = [...this.#literal.values()];
    const walk = (node: Node) => {
      out.push(...node.clusters);
      for (const child of node.children.values()) walk(child);
    };
    walk(this.#root);
    return out;
  }

  /** Notes that a line of this time was read: the windows before and after a failure are measured on these. */
  saw(time: number): void {
    if (this.firstSeen === undefined || time < this.firstSeen) this.firstSeen = time;
    if (this.lastSeen === undefined || time > this.lastSeen) this.lastSeen = time;
  }

  /** A message, clustered. `sample` is called only when the message starts a template. */
  add(message: string, time: number, sample: () => TemplateSample): void {
    const tokens = tokensOf(message, this.options.maxTokens);
    if (tokens.length === 0) return;
    const leaf = this.#leaf(tokens);
    let best: Template | undefined;
    let bestScore = -1;
    for (const cluster of leaf.clusters) {
      const score = similarity(cluster.tokens, tokens);
      if (score > bestScore) {
        best = cluster;
        bestScore = score;
      }
    }
    if (best && bestScore >= this.options.similarity) {
      for (let i = 0; i < tokens.length; i++) if (best.tokens[i] !== tokens[i]) best.tokens[i] = WILDCARD;
      this.#count(best, time);
      return;
    }
    if (leaf.clusters.length >= this.options.maxPerLeaf) {
      this.dropped++;
      return;
    }
    const created = this.#create('message', tokens, time, sample);
    if (created) leaf.clusters.push(created);
  }

  /** A message counted as it is, not parametrised: the 5xx answers, whose status and route are the point. */
  addLiteral(text: string, time: number, sample: () => TemplateSample): void {
    const key = text.slice(0, this.options.maxText);
    const known = this.#literal.get(key);
    if (known) {
      this.#count(known, time);
      return;
    }
    const created = this.#create('answer', [key], time, sample);
    if (created) this.#literal.set(key, created);
  }

  #create(
    of: Template['of'],
    tokens: string[],
    time: number,
    sample: () => TemplateSample,
  ): Template | undefined {
    if (this.#clusters >= this.options.maxClusters) {
      this.dropped++;
      return undefined;
    }
    this.#clusters++;
    const template: Template = {
      of,
      tokens,
      count: 0,
      first: time,
      last: time,
      seconds: new Map(),
      untimed: 0,
      sample: sample(),
    };
    this.#count(template, time);
    return template;
  }

  #count(template: Template, time: number): void {
    template.count++;
    if (time < template.first) template.first = time;
    if (time > template.last) template.last = time;
    const second = Math.floor(time / SECOND_MS) * SECOND_MS;
    const known = template.seconds.get(second);
    if (known !== undefined) template.seconds.set(second, known + 1);
    else if (this.#buckets < this.options.maxBuckets) {
      this.#buckets++;
      template.seconds.set(second, 1);
    } else template.untimed++;
  }

  /** The fixed-depth path: token count, then the first `depth` tokens (those with digits are variables). */
  #leaf(tokens: string[]): Node {
    let node = this.#child(this.#root, String(tokens.length));
    for (const token of tokens.slice(0, this.options.depth)) node = this.#child(node, token);
    return node;
  }

  #child(node: Node, key: string): Node {
    let child = node.children.get(key);
    if (child) return child;
    // A full node sends what is new down its wildcard branch: the tree's width is bounded too.
    const branch = node.children.size >= this.options.maxChildren ? WILDCARD : key;
    child = node.children.get(branch);
    if (!child) {
      child = { children: new Map(), clusters: [] };
      node.children.set(branch, child);
    }
    return child;
  }
}

/** Drain's simSeq: the share of positions where the template and the message hold the same token. */
function similarity(template: string[], tokens: string[]): number {
  let same = 0;
  for (let i = 0; i < tokens.length; i++) if (template[i] === tokens[i]) same++;
  return same / tokens.length;
}

/** The text of a template, bounded. */
export function templateText(template: Template, maxText = DEFAULT_TEMPLATE_OPTIONS.maxText): string {
  const text = template.tokens.join(' ');
  return text.length > maxText ? `${text.slice(0, maxText - 1)}…` : text;
}

export interface TemplateChangeOptions {
  /** How far before and after the failure the counts are compared. */
  windowMs: number;
  /** Fewer than this after the failure is noise, not a finding. */
  minCount: number;
  /** How many times its rate before the failure a template must reach after it to be "elevated". */
  minRatio: number;
  /** A template first seen this little before the failure still counts as new with it (clocks, ordering). */
  slackMs: number;
}

export const DEFAULT_CHANGE_OPTIONS: TemplateChangeOptions = {
  windowMs: 10 * 60_000,
  minCount: 5,
  minRatio: 5,
  slackMs: 1000,
};

export interface TemplateChange {
  template: string;
  of: Template['of'];
  change: 'new' | 'elevated';
  /** In the window before the failure, and in the one after it. */
  before: number;
  after: number;
  /** After-rate over before-rate, for an elevated template. */
  ratio?: number;
  first: string;
  last: string;
  sample: TemplateSample;
}

/**
 * The templates that changed with the failure at `failureAt`: new since it (none in the window before it),
 * or elevated (a rate after it at least `minRatio` times the rate before), each with at least `minCount`
 * after it. Rates are over the part of each window the log covers, so a log that starts a few seconds
 * before the failure is not read as a quiet hour. Most after the failure first.
 */
export function templateChanges(
  templates: LogTemplates,
  failureAt: number,
  options: TemplateChangeOptions = DEFAULT_CHANGE_OPTIONS,
): TemplateChange[] {
  const from = failureAt - options.windowMs;
  const to = failureAt + options.windowMs;
  const seenFrom = Math.max(from, templates.firstSeen ?? failureAt);
  const seenTo = Math.min(to, templates.lastSeen ?? failureAt);
  // At least a second each: the counts are per second, and a span of zero divides nothing.
  const beforeSpan = Math.max(failureAt - seenFrom, SECOND_MS);
  const afterSpan = Math.max(seenTo - failureAt, SECOND_MS);
  const changes: TemplateChange[] = [];
  for (const template of templates.all()) {
    let before = 0;
    let after = 0;
    for (const [second, count] of template.seconds) {
      if (second < from || second > to) continue;
      // The second of the failure counts after it: its lines are the failure's.
      if (second < Math.floor(failureAt / SECOND_MS) * SECOND_MS) before += count;
      else after += count;
    }
    if (after < options.minCount) continue;
    const isNew = before === 0 || template.first >= failureAt - options.slackMs;
    const ratio = before > 0 ? after / afterSpan / (before / beforeSpan) : undefined;
    if (!isNew && (ratio === undefined || ratio < options.minRatio)) continue;
    changes.push({
      template: templateText(template, templates.options.maxText),
      of: template.of,
      change: isNew ? 'new' : 'elevated',
      before,
      after,
      ...(isNew || ratio === undefined ? {} : { ratio: Math.round(ratio * 10) / 10 }),
      first: new Date(template.first).toISOString(),
      last: new Date(template.last).toISOString(),
      sample: template.sample,
    });
  }
  return changes.sort((a, b) => b.after - a.after || a.template.localeCompare(b.template));
}

/** One change as a person reads it: "new since the failure: `connect ECONNREFUSED <*>` (41 times)". */
export function describeChange(change: TemplateChange): string {
  const times = `${change.after} time${change.after === 1 ? '' : 's'}`;
  return change.change === 'new'
    ? `new since the failure: \`${change.template}\` (${times})`
    : `elevated since the failure: \`${change.template}\` (${times}, ${change.ratio}× its rate before: ${change.before} before)`;
}
