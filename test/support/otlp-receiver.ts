/**
 * A local OTLP/HTTP trace receiver: accepts POST /v1/traces in both encodings the runtime's exporter
 * speaks (application/x-protobuf and application/json) and keeps every span, decoded to one shape.
 * The protobuf side is a small reader of the wire format, enough for the trace schema's fields.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** The content type of each export request, by the service that sent it. */
  contentTypes: Map<string, Set<string>>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Map<string, Set<string>>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
      const body = Buffer.concat(chunks);
      let received: ReceivedSpan[];
      try {
        received = type === 'application/json' ? fromJson(body) : fromProtobuf(body);
      } catch (error) {
        response.writeHead(400).end(String(error));
        return;
      }
      spans.push(...received);
      for (const service of new Set(received.map((s) => s.service))) {
        if (!contentTypes.has(service)) contentTypes.set(service, new Set());
        contentTypes.get(service)!.add(type);
      }
      // An empty ExportTraceServiceResponse, in the request's encoding.
      response
        .writeHead(200, { 'content-type': type })
        .end(type === 'application/json' ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- OTLP JSON ----

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

function jsonValue(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('arrayValue' in value)
    return ((value.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(jsonValue);
  return value;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}

function fromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: Array<{
      resource?: { attributes?: JsonKeyValue[] };
      scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
    }>;
  };
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const service = String(jsonAttributes(rs.resource?.attributes)['service.name'] ?? '');
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        service,
        traceId: String(s.traceId),
        spanId: String(s.spanId),
        parentSpanId: String(s.parentSpanId ?? ''),
        name: String(s.name),
        kind: Number(s.kind ?? 0),
        attributes: jsonAttributes(s.attributes as JsonKeyValue[]),
        events: ((s.events ?? []) as Array<{ name: string; attributes?: JsonKeyValue[] }>).map((e) => ({
          name: e.name,
          attributes: jsonAttributes(e.attributes),
        })),
        status: {
          code: Number((s.status as { code?: number } | undefined)?.code ?? 0),
          message: String((s.status as { message?: string } | undefined)?.message ?? ''),
        },
      })),
    );
  });
}

// ---- OTLP protobuf (opentelemetry/proto/trace/v1, common/v1, resource/v1) ----

type Field = { no: number; value: bigint | Buffer };

/** The fields of one message, in order; varints as bigint, length-delimited and fixed as bytes. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    switch (key & 7) {
      case 0:
        out.push({ no, value: varint() });
        break;
      case 1:
        out.push({ no, value: buf.subarray(at, (at += 8)) });
        break;
      case 2: {
        const length = Number(varint());
        out.push({ no, value: buf.subarray(at, (at += length)) });
        break;
      }
      case 5:
        out.push({ no, value: buf.subarray(at, (at += 4)) });
        break;
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
  return out;
}

const bytes = (f: Field[], no: number) => f.filter((x) => x.no === no).map((x) => x.value as Buffer);
const first = (f: Field[], no: number) => f.find((x) => x.no === no)?.value;

function anyValue(buf: Buffer): unknown {
  const f = fields(buf)[0];
  if (!f) return undefined;
  switch (f.no) {
    case 1:
      return (f.value as Buffer).toString('utf8');
    case 2:
      return f.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, f.value as bigint));
    case 4:
      return (f.value as Buffer).readDoubleLE(0);
    case 5:
      return bytes(fields(f.value as Buffer), 1).map(anyValue);
    default:
      return f.value;
  }
}

function attributes(list: Buffer[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((kv) => {
      const f = fields(kv);
      const value = first(f, 2);
      return [(first(f, 1) as Buffer).toString('utf8'), value ? anyValue(value as Buffer) : undefined];
    }),
  );
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return bytes(fields(body), 1).flatMap((resourceSpans) => {
    const rs = fields(resourceSpans);
    const resource = first(rs, 1) as Buffer | undefined;
    const service = String(attributes(resource ? bytes(fields(resource), 1) : [])['service.name'] ?? '');
    return bytes(rs, 2).flatMap((scopeSpans) =>
      bytes(fields(scopeSpans), 2).map((spanBytes) => {
        const s = fields(spanBytes);
        const status = first(s, 15) as Buffer | undefined;
        const sf = status ? fields(status) : [];
        return {
          service,
          traceId: (first(s, 1) as Buffer).toString('hex'),
          spanId: (first(s, 2) as Buffer).toString('hex'),
          parentSpanId: ((first(s, 4) as Buffer | undefined) ?? Buffer.alloc(0)).toString('hex'),
          name: (first(s, 5) as Buffer).toString('utf8'),
          kind: Number((first(s, 6) as bigint | undefined) ?? 0n),
          attributes: attributes(bytes(s, 9)),
          events: bytes(s, 11).map((e) => {
            const ef = fields(e);
            return {
              name: ((first(ef, 2) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'),
              attributes: attributes(bytes(ef, 3)),
            };
          }),
          status: {
            code: Number((first(sf, 3) as bigint | undefined) ?? 0n),
            message: ((first(sf, 2) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'),
          },
        };
      }),
    );
  });
}
