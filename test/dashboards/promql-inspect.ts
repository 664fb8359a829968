/** Reads PromQL the way the tests need: syntax errors, metric names and label matchers. */
import { parser } from '@prometheus-io/lezer-promql';
import type { BuiltDashboard } from '../../dashboards/panels.js';

export interface Matcher {
  metric: string;
  label: string;
  op: string;
  value: string;
}

export interface PromqlFacts {
  errors: string[];
  metrics: string[];
  matchers: Matcher[];
}

export function inspectPromql(expr: string): PromqlFacts {
  const facts: PromqlFacts = { errors: [], metrics: [], matchers: [] };
  let currentMetric = '';
  parser.parse(expr).iterate({
    enter: (node) => {
      const text = expr.slice(node.from, node.to);
      if (node.type.isError)
        facts.errors.push(
          `syntax error at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`,
        );
      if (node.name === 'VectorSelector') currentMetric = '';
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        currentMetric = text;
        facts.metrics.push(text);
      }
      if (node.name === 'UnquotedLabelMatcher') {
        const label = node.node.getChild('LabelName');
        const op = node.node.getChild('MatchOp');
        const value = node.node.getChild('StringLiteral');
        if (label && op && value) {
          facts.matchers.push({
            metric: currentMetric,
            label: expr.slice(label.from, label.to),
            op: expr.slice(op.from, op.to),
            value: JSON.parse(expr.slice(value.from, value.to)) as string,
          });
        }
      }
    },
  });
  return facts;
}

export interface DashboardQuery {
  where: string;
  expr: string;
}

interface PanelJson {
  title?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
}

/** Every PromQL query of a dashboard's panels, with where it is for error messages. */
export function dashboardQueries(d: BuiltDashboard): DashboardQuery[] {
  const panels = (d.json.panels ?? []) as PanelJson[];
  return panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr ?? '' })),
  );
}

/** Replaces Grafana's variables with what Grafana would send to Prometheus. */
export function substituteGrafanaVariables(
  expr: string,
  values: { rateInterval: string; range: string },
): string {
  return expr
    .replaceAll('$__rate_interval', values.rateInterval)
    .replaceAll('$__range', values.range)
    .replaceAll('$namespace', '.*');
}
