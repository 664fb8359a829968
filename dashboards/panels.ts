/**
 * A thin layer over @grafana/grafana-foundation-sdk: dashboards are described as data (title,
 * description, unit and PromQL per panel) and built with the SDK's builders, which number the
 * panels and queries and give every dashboard the same variables.
 */
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { metricCatalog } from '../runtime/contract/metrics.js';

export const DATASOURCE_VARIABLE = 'datasource';
export const NAMESPACE_VARIABLE = 'namespace';

/** Grafana's folder for every Archibald dashboard (the sidecar's folder annotation). */
export const DASHBOARD_FOLDER = 'Archibald';

/** Selects the namespaces picked in the dashboard's namespace variable. */
export const ns = `namespace=~"$${NAMESPACE_VARIABLE}"`;

export interface QuerySpec {
  expr: string;
  /** Grafana legend format, such as `{{stage}}`. */
  legend?: string;
  /**
   * Show the histogram's exemplars: each dot links to its trace in Jaeger through the Prometheus
   * datasource's exemplarTraceIdDestinations (dashboards/datasources.ts).
   */
  exemplars?: boolean;
}

export interface Threshold {
  value: number;
  color: string;
}

export interface PanelSpec {
  kind: 'stat' | 'timeseries';
  title: string;
  description: string;
  /** Grafana unit id (`s`, `percentunit`, `currencyUSD`, `reqps`, `short`, `bytes`, ...). */
  unit: string;
  queries: QuerySpec[];
  /** Grid width out of 24. */
  width: number;
  height?: number;
  decimals?: number;
  min?: number;
  max?: number;
  /** Colour steps above the base colour, for stat panels and threshold lines. */
  thresholds?: Threshold[];
  /** Base colour below the first threshold; green unless said otherwise. */
  baseColor?: string;
  stacked?: boolean;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  panels: PanelSpec[];
}

export interface BuiltDashboard {
  uid: string;
  title: string;
  folder: string;
  json: Dashboard;
}

const datasourceRef: DataSourceRef = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

function refId(index: number): string {
  if (index >= 26) throw new Error('a panel may have at most 26 queries');
  return String.fromCharCode(65 + index);
}

function thresholdsOf(spec: PanelSpec): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    // Grafana's base step has a null value: "from minus infinity".
    { value: null, color: spec.baseColor ?? 'green' },
    ...(spec.thresholds ?? []),
  ]);
}

function buildPanel(spec: PanelSpec, id: number): StatPanelBuilder | TimeseriesPanelBuilder {
  const panel = spec.kind === 'stat' ? new StatPanelBuilder() : new TimeseriesPanelBuilder();
  panel
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(datasourceRef)
    .span(spec.width)
    .height(spec.height ?? 8)
    .thresholds(thresholdsOf(spec));
  if (spec.decimals !== undefined) panel.decimals(spec.decimals);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  spec.queries.forEach((q, i) => {
    const query = new DataqueryBuilder().expr(q.expr).refId(refId(i)).datasource(datasourceRef);
    if (q.legend) query.legendFormat(q.legend);
    if (q.exemplars) query.exemplar(true);
    panel.withTarget(query);
  });
  if (panel instanceof StatPanelBuilder) {
    panel.reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  } else {
    panel
      .legend(
        new VizLegendOptionsBuilder()
          .showLegend(true)
          .displayMode(LegendDisplayMode.List)
          .placement(LegendPlacement.Bottom)
          .calcs([]),
      )
      .fillOpacity(spec.stacked ? 40 : 10)
      .stacking(new StackingConfigBuilder().mode(spec.stacked ? StackingMode.Normal : StackingMode.None));
  }
  return panel;
}

export function buildDashboard(spec: DashboardSpec): BuiltDashboard {
  const dashboard = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(spec.tags)
    .editable()
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .withVariable(new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder(NAMESPACE_VARIABLE)
        .label('Namespace')
        .description('The Kubernetes namespaces of the Archibald deployments to show.')
        .datasource(datasourceRef)
        .query(`label_values(${metricCatalog.buildInfo.name}, namespace)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    );
  spec.panels.forEach((p, i) => dashboard.withPanel(buildPanel(p, i + 1)));
  return { uid: spec.uid, title: spec.title, folder: DASHBOARD_FOLDER, json: dashboard.build() };
}
