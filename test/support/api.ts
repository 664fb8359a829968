/**
 * Starting the API in-process against a test environment, and a small HTTP client for it.
 */
import { startApiServer } from '../../runtime/api/server.js';
import type { ApiServer } from '../../runtime/api/server.js';
import { closeConfig } from '../../runtime/config/load.js';
import { createApiKey } from '../../runtime/db/api-keys.js';
import { createDatabase } from '../../runtime/db/pool.js';
import type { TestEnvironment } from './environment.js';

export async function startTestApi(
  environment: TestEnvironment,
  overrides: Record<string, string> = {},
): Promise<ApiServer> {
  const config = environment.config(overrides);
  const server = await startApiServer(config);
  environment.defer(async () => {
    await server.close();
    closeConfig(config);
  });
  return server;
}

/** Creates an API key directly in the environment's database (as `archibald keys create` does). */
export async function createTestKey(
  environment: TestEnvironment,
  name = 'test',
): Promise<{ id: string; key: string }> {
  const db = createDatabase(environment.config().database);
  try {
    const { record, key } = await createApiKey(db.primary, name);
    return { id: record.id, key };
  } finally {
    await db.close();
  }
}

// Tests read response bodies freely and assert on them, so the default body type is loose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export function apiClient(baseUrl: string, key?: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return async function call<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<JsonResponse<T>> {
    const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}) };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    } else if (options.rawBody !== undefined) {
      body = options.rawBody;
    }
    const response = await fetch(new URL(path, baseUrl), {
      method,
      headers: { ...headers, ...options.headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T };
  };
}
