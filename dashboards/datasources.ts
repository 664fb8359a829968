/**
 * Grafana's datasources as code: the same definitions go to the cluster's Grafana (through
 * kube-prometheus-stack's values, stacks/components/monitoring.ts) and to the single-node
 * deployment's provisioning file (deploy/compose/), so a dashboard link works in both.
 */
import { TRACE_ID_LABEL } from '../runtime/config/logger.js';

export const DATASOURCE_UIDS = {
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
  jaeger: 'jaeger',
  loki: 'loki',
} as const;

/**
 * The exemplar label holding the trace id on the runtime's latency histograms, and the log field
 * the runtime writes it in (the runtime's own constant): Grafana turns either into a link to the
 * trace in Jaeger.
 */
export { TRACE_ID_LABEL };
const VIEW_TRACE = 'View trace';

/** One entry of a Grafana datasource provisioning file (apiVersion 1). */
export interface GrafanaDatasource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly access: 'proxy';
  readonly url: string;
  readonly isDefault?: boolean;
  readonly jsonData?: Record<string, unknown>;
}

/** Prometheus, with its exemplars linked to their trace in Jaeger. */
export function prometheusDatasource(url: string, scrapeIntervalSeconds: number): GrafanaDatasource {
  return {
    name: 'Prometheus',
    uid: DATASOURCE_UIDS.prometheus,
    type: 'prometheus',
    access: 'proxy',
    url,
    isDefault: true,
    jsonData: {
      timeInterval: `${scrapeIntervalSeconds}s`,
      exemplarTraceIdDestinations: [
        { name: TRACE_ID_LABEL, datasourceUid: DATASOURCE_UIDS.jaeger, urlDisplayLabel: VIEW_TRACE },
      ],
    },
  };
}

/** kube-prometheus-stack's form of the same exemplar link (grafana.sidecar.datasources). */
export function exemplarTraceIdDestination(): Record<string, string> {
  return {
    datasourceUid: DATASOURCE_UIDS.jaeger,
    traceIdLabelName: TRACE_ID_LABEL,
    urlDisplayLabel: VIEW_TRACE,
  };
}

export function alertmanagerDatasource(url: string): GrafanaDatasource {
  return {
    name: 'Alertmanager',
    uid: DATASOURCE_UIDS.alertmanager,
    type: 'alertmanager',
    access: 'proxy',
    url,
    jsonData: { implementation: 'prometheus', handleGrafanaManagedAlerts: false },
  };
}

/** Jaeger; with Loki beside it, a span opens the logs written under its trace id. */
export function jaegerDatasource(url: string, opts: { logsDatasourceUid?: string } = {}): GrafanaDatasource {
  return {
    name: 'Jaeger',
    uid: DATASOURCE_UIDS.jaeger,
    type: 'jaeger',
    access: 'proxy',
    url,
    ...(opts.logsDatasourceUid
      ? {
          jsonData: {
            tracesToLogsV2: {
              datasourceUid: opts.logsDatasourceUid,
              filterByTraceID: true,
              spanStartTimeShift: '-5m',
              spanEndTimeShift: '5m',
            },
          },
        }
      : {}),
  };
}

/** Loki: a log line's trace_id (structured metadata from the OTLP log record) opens its trace. */
export function lokiDatasource(url: string): GrafanaDatasource {
  return {
    name: 'Loki',
    uid: DATASOURCE_UIDS.loki,
    type: 'loki',
    access: 'proxy',
    url,
    jsonData: {
      derivedFields: [
        {
          name: 'TraceID',
          matcherType: 'label',
          matcherRegex: TRACE_ID_LABEL,
          datasourceUid: DATASOURCE_UIDS.jaeger,
          url: '$${__value.raw}',
          urlDisplayLabel: VIEW_TRACE,
        },
      ],
    },
  };
}

/** Jaeger and Loki, linked both ways. */
export function traceAndLogDatasources(urls: { jaeger: string; loki: string }): GrafanaDatasource[] {
  return [
    jaegerDatasource(urls.jaeger, { logsDatasourceUid: DATASOURCE_UIDS.loki }),
    lokiDatasource(urls.loki),
  ];
}
