/**
 * Minimal Prometheus metrics registry for the sidecar: counters, gauges and
 * histograms rendered in the text exposition format (`/metrics`).
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
}

export const DEFAULT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;

const labelKey = (labels: Labels): string =>
  Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(',');

export class MetricsRegistry {
  private readonly families = new Map<string, MetricFamily>();
  private readonly values = new Map<string, Map<string, number>>();
  private readonly histograms = new Map<string, number[]>();

  register(name: string, help: string, type: MetricType): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name ${name}`);
    this.families.set(name, { name, help, type });
    this.values.set(name, new Map());
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const series = this.series(name);
    const key = labelKey(labels);
    series.set(key, (series.get(key) ?? 0) + by);
  }

  set(name: string, value: number, labels: Labels = {}): void {
    this.series(name).set(labelKey(labels), value);
  }

  /** Record an observation into cumulative histogram buckets. */
  observe(name: string, seconds: number): void {
    const counts = this.histograms.get(name) ?? new Array(DEFAULT_BUCKETS.length + 1).fill(0);
    DEFAULT_BUCKETS.forEach((le, i) => {
      if (seconds <= le) counts[i]++;
    });
    counts[DEFAULT_BUCKETS.length]++;
    this.histograms.set(name, counts);
  }

  /** Render every family in Prometheus text format. */
  render(): string {
    const out: string[] = [];
    for (const fam of this.families.values()) {
      out.push(`# HELP ${fam.name} ${fam.help}`, `# TYPE ${fam.name} ${fam.type}`);
      if (fam.type === 'histogram') {
        const counts = this.histograms.get(fam.name) ?? [];
        DEFAULT_BUCKETS.forEach((le, i) => out.push(`${fam.name}_bucket{le="${le}"} ${counts[i] ?? 0}`));
        out.push(`${fam.name}_bucket{le="+Inf"} ${counts[DEFAULT_BUCKETS.length] ?? 0}`);
        continue;
      }
      for (const [key, value] of this.series(fam.name)) {
        out.push(key ? `${fam.name}{${key}} ${value}` : `${fam.name} ${value}`);
      }
    }
    return out.join('\n') + '\n';
  }

  private series(name: string): Map<string, number> {
    const s = this.values.get(name);
    if (!s) throw new Error(`metric ${name} not registered`);
    return s;
  }
}
