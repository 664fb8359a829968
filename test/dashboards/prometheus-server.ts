/**
 * A real Prometheus (Debian's `prometheus` binary) for the live check: a temporary config and
 * storage directory, a spare loopback port, 1 s scrape and rule-evaluation intervals, and the
 * given rules loaded.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sparePort, startDaemon } from './daemon.js';
import type { Daemon } from './daemon.js';

export interface ScrapeTarget {
  job: string;
  /** Base URL of the process; /metrics is scraped. */
  url: string;
  labels?: Record<string, string>;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RuleState {
  name: string;
  type: 'recording' | 'alerting';
  health: string;
  lastError?: string;
}

export interface PrometheusServer extends Daemon {
  url: string;
  /** An instant query; rejects when Prometheus refuses the expression. */
  query(expr: string): Promise<Sample[]>;
  rules(): Promise<RuleState[]>;
  /** Exemplars of the series an expression selects (needs the exemplar-storage feature). */
  exemplars(expr: string): Promise<
    Array<{
      seriesLabels: Record<string, string>;
      exemplars: Array<{ labels: Record<string, string>; value: string }>;
    }>
  >;
}

interface ApiResponse<T> {
  status: string;
  error?: string;
  data: T;
}

export async function startPrometheus(options: {
  rulesYaml: string;
  targets: ScrapeTarget[];
  /** Feature flags (--enable-feature), e.g. exemplar-storage. */
  features?: string[];
}): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'archibald-prometheus-'));
  await writeFile(join(dir, 'rules.yaml'), options.rulesYaml);
  await writeFile(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ['rules.yaml'],
      scrape_configs: options.targets.map((t) => ({
        job_name: t.job,
        metrics_path: '/metrics',
        static_configs: [{ targets: [new URL(t.url).host], labels: t.labels ?? {} }],
      })),
    }),
  );
  const port = await sparePort();
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    command: 'prometheus',
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.features ?? []).map((feature) => `--enable-feature=${feature}`),
    ],
    dir,
    readyUrl: `${url}/-/ready`,
  });

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  }

  return {
    ...daemon,
    url,
    async query(expr) {
      const data = await api<{
        resultType: string;
        result: Array<{ metric: Record<string, string>; value: [number, string] }>;
      }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector')
        throw new Error(`expected a vector for ${expr}, got ${data.resultType}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async exemplars(expr) {
      const end = Date.now() / 1000;
      return api(`/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${end - 3600}&end=${end}`);
    },
    async rules() {
      const data = await api<{ groups: Array<{ rules: RuleState[] }> }>('/api/v1/rules');
      return data.groups.flatMap((g) => g.rules);
    },
  };
}
