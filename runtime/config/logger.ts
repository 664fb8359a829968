/** The process logger: pino JSON lines on stdout, with role and version, secrets redacted. */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Config } from './load.js';

export function createLogger(config: Pick<Config, 'logLevel' | 'version'>, role: string): Logger {
  return pino({
    level: config.logLevel,
    base: { role, version: config.version },
    redact: {
      paths: ['req.headers.authorization', '*.password', 'password', '*.apiKey'],
      censor: '[secret]',
    },
  });
}
