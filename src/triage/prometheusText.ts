/** One sample of a Prometheus text exposition: `name{label="value",...} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
/** A label value is a name (a service, a dependency, a path); past this it is cut, not carried whole. */
const MAX_LABEL_VALUE = 200;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL: Record<string, number> = {
  '+Inf': Number.POSITIVE_INFINITY,
  Inf: Number.POSITIVE_INFINITY,
  '-Inf': Number.NEGATIVE_INFINITY,
  NaN: Number.NaN,
};

/**
 * The samples of a scrape; comments, blank lines and lines that are not samples are passed over. Values
 * are as written, `+Inf`, `-Inf` and `NaN` included: what to make of them is the reader's (readScrape).
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      // Names beginning `__` are Prometheus's own; `__proto__` would not be a label here but a prototype.
      if ((label[1] as string).startsWith('__')) continue;
      const value = (label[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      labels[label[1] as string] =
        value.length > MAX_LABEL_VALUE ? `${value.slice(0, MAX_LABEL_VALUE - 1)}…` : value;
    }
    const text = match[3] as string;
    // Number() would also take `0x10`, `Infinity` or `1_0`, none of which a scrape writes.
    const value = Object.hasOwn(SPECIAL, text)
      ? SPECIAL[text]
      : DECIMAL.test(text)
        ? Number(text)
        : undefined;
    if (value !== undefined) samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}
