/**
 * Request validation with TypeBox: bodies are checked as sent (defaults filled, no type coercion);
 * params and query strings, which arrive as text, are converted to the schema's types first.
 * Errors are reduced to one entry per field, naming the field and the rule it broke.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

export interface FieldError {
  /** e.g. "body.topic", "querystring.limit", "params.id". */
  field: string;
  /** The JSON Schema keyword that failed: minLength, enum, required, additionalProperties... */
  rule: string;
  message: string;
}

interface RawError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  message: string;
  params: Record<string, unknown>;
}

function describe(error: RawError): string {
  const p = error.params;
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minLength':
      return `must be at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters`;
    case 'minimum':
      return `must be >= ${String(p.limit)}`;
    case 'maximum':
      return `must be <= ${String(p.limit)}`;
    case 'type':
      return `must be ${String(p.type)}`;
    case 'format':
      return `must be a valid ${String(p.format)}`;
    case 'pattern':
      return `must match ${String(p.pattern)}`;
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not allowed';
    default:
      return error.message;
  }
}

/** Keeps the errors a person can act on: drops `false`-schema echoes and anyOf branch noise. */
export function fieldErrors(errors: readonly RawError[], part: string): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const error of errors) {
    if (error.keyword === 'boolean') continue;
    if (
      error.keyword !== 'anyOf' &&
      anyOfPaths.has(error.instancePath) &&
      /\/anyOf\/\d+/.test(error.schemaPath)
    )
      continue;
    const base = [part, ...error.instancePath.split('/').filter(Boolean)].join('.');
    const names =
      error.keyword === 'required'
        ? ((error.params.requiredProperties as string[] | undefined) ?? [
            String(error.params.missingProperty ?? ''),
          ])
        : error.keyword === 'additionalProperties'
          ? ((error.params.additionalProperties as string[] | undefined) ?? [
              String(error.params.additionalProperty ?? ''),
            ])
          : [undefined];
    for (const name of names) {
      const field = name ? `${base}.${name}` : base;
      if (seen.has(field)) continue;
      seen.add(field);
      out.push({
        field,
        rule: error.keyword === 'anyOf' ? 'type' : error.keyword,
        message: error.keyword === 'anyOf' ? 'has the wrong type' : describe(error),
      });
    }
  }
  return out;
}

export type Validator = (
  input: unknown,
) => { value: unknown; error?: undefined } | { error: FastifySchemaValidationError[]; value?: undefined };

const compiled = new WeakMap<TSchema, Map<string, Validator>>();

function compileValidator(schema: TSchema, httpPart: string): Validator {
  const check = Compile(schema);
  const converts = httpPart !== 'body';
  return (input: unknown) => {
    let value = input;
    if (converts && value !== null && value !== undefined) value = Value.Convert(schema, Value.Clone(value));
    // A body that is not an object cannot take defaults; the check reports its type.
    if (value !== null && typeof value === 'object') value = Value.Default(schema, value);
    if (check.Check(value)) return { value };
    return { error: check.Errors(value) as unknown as FastifySchemaValidationError[] };
  };
}

/**
 * The validator of one schema for one part of a request, compiled once and shared: fastify gets it
 * for a route's schema, and `archibald render` gets the very same one for the request body it
 * builds from its flags.
 */
export function validatorFor(schema: TSchema, httpPart = 'body'): Validator {
  let byPart = compiled.get(schema);
  if (!byPart) compiled.set(schema, (byPart = new Map()));
  let validator = byPart.get(httpPart);
  if (!validator) byPart.set(httpPart, (validator = compileValidator(schema, httpPart)));
  return validator;
}

export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) =>
  validatorFor(schema, httpPart ?? 'body');
