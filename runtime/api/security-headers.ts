/**
 * The security headers every response carries (Content-Security-Policy, Strict-Transport-Security,
 * X-Content-Type-Options, ...), as helmet sets them, worked out once at start. @fastify/helmet
 * rebuilt helmet's middleware, re-parsing the CSP directives, on every request; with fixed options
 * the headers never change, so they are computed here and set as one object per reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { HelmetOptions } from 'helmet';

/** Lower-cased header names and values helmet sets for `options`. */
export function securityHeaders(options?: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return Object.freeze(headers);
}
