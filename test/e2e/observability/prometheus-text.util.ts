/** One sample line of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its `# HELP` and `# TYPE` lines and its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/**
 * Parses the Prometheus text exposition format (version 0.0.4) strictly: every family has
 * its HELP and TYPE before its samples, every sample belongs to the family announced last,
 * label values are well escaped and values are numbers. Throws naming the line otherwise.
 */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  let current: MetricFamily | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a newline');
  lines.pop();
  lines.forEach((line, index) => {
    const fail = (why: string) => new Error(`line ${index + 1} (${JSON.stringify(line)}): ${why}`);
    if (line === '') return;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === 'HELP') {
        if (families.has(name)) throw fail(`a second HELP for ${name}`);
        current = { name, help: rest, type: '', samples: [] };
        families.set(name, current);
      } else {
        if (current?.name !== name) throw fail('TYPE without its HELP just before');
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw fail(`unknown type ${rest}`);
        current.type = rest;
      }
      return;
    }
    if (line.startsWith('#')) throw fail('an unknown comment');
    const match = SAMPLE.exec(line);
    if (!match) throw fail('not a sample');
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
    if (!current || !current.type) throw fail('a sample before any HELP and TYPE');
    const suffix = name.slice(current.name.length);
    if (!name.startsWith(current.name) || !(SUFFIXES[current.type] ?? ['']).includes(suffix)) throw fail(`a sample of another family than ${current.name}`);
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw fail(`value ${valueText} is not a number`);
    current.samples.push({ name, labels: parseLabels(labelText ?? '', fail), value });
  });
  for (const family of families.values()) {
    if (!family.type) throw new Error(`${family.name} has no TYPE`);
  }
  return families;
}

function parseLabels(text: string, fail: (why: string) => Error): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const match = LABEL.exec(text);
    if (!match || match.index !== start) throw fail(`malformed labels ${text}`);
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The value of the one sample named `name` whose labels include `labels`, or `undefined`. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) return sample.value;
    }
  }
  return undefined;
}

/** The buckets of one histogram series, in order of `le`, as `[upper bound, cumulative count]`. */
export function histogramBuckets(families: Map<string, MetricFamily>, family: string, labels: Record<string, string>): [number, number][] {
  const samples = families.get(family)?.samples ?? [];
  return samples
    .filter((sample) => sample.name === `${family}_bucket` && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .map((sample) => [sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le), sample.value] as [number, number])
    .sort((a, b) => a[0] - b[0]);
}
