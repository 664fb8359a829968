/**
 * Every error leaves as JSON `{ statusCode, error, message, requestId, details? }`: validation
 * failures name each field and rule, client errors keep their 4xx status, and anything unexpected
 * is logged and answered with a generic 500 that reveals nothing internal. A database error's
 * text never reaches the client: it is logged under the request id the client gets.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fieldErrors } from './validation.js';
import type { FieldError } from './validation.js';

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  message: string,
  details?: FieldError[],
) {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send({
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message,
      requestId: request.id,
      ...(details ? { details } : {}),
    });
}

const CLIENT_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is larger than the limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported Content-Type: send application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body is empty but Content-Type is application/json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'body is not valid JSON',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** Postgres or Redis being down is a 503 (retry later), not a 500. */
function unavailableDependency(error: Error & { code?: string }): string | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  const message = error.message ?? '';
  // SQLSTATE class 08 (connection exception) and 57P (operator intervention: shutdown, crash).
  if (
    /^(08|57P)/.test(code) ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(message)
  )
    return 'the database';
  if (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Reached the max retries/i.test(message)
  )
    return 'the queue';
  if (NETWORK_CODES.has(code)) return 'a backing service';
  return undefined;
}

/** SQLSTATE class 22 (data exception), e.g. a string Postgres cannot store such as a lone surrogate. */
function isPostgresDataError(error: Error & { code?: string }): boolean {
  return typeof error.code === 'string' && /^22[0-9A-Z]{3}$/.test(error.code) && 'severity' in error;
}

export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setSchemaErrorFormatter((errors, part) => {
    const details = fieldErrors(errors as never, part);
    return new Error(details.map((d) => `${d.field} ${d.message}`).join('; ') || `invalid ${part}`);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const details = fieldErrors(error.validation as never, error.validationContext ?? 'request');
      return sendError(request, reply, 400, error.message, details);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      let message = CLIENT_MESSAGES[error.code] ?? error.message;
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        message = `request body is larger than ${bodyLimitBytes} bytes`;
      if (error instanceof SyntaxError) message = 'body is not valid JSON';
      return sendError(request, reply, status, message);
    }
    if (status === 503) return sendError(request, reply, 503, error.message);
    const dependency = unavailableDependency(error);
    if (dependency) {
      request.log.warn({ err: error }, `${dependency} unavailable`);
      return sendError(request, reply, 503, `${dependency} is unavailable; retry later`);
    }
    // Postgres' own text (relation, column and constraint names, values) stays in the log.
    if (isPostgresDataError(error)) {
      request.log.warn({ err: error }, 'postgres refused a value from the request');
      return sendError(
        request,
        reply,
        400,
        'a value in the request cannot be stored (for example text with a lone UTF-16 surrogate)',
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, 500, 'internal error; the request id identifies it in the logs');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
