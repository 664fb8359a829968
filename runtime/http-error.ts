/**
 * An error that carries the HTTP status to answer with. Below the API so that the layers the API
 * builds on (security's key check and rate limits) can raise one without importing the API;
 * runtime/api/errors.ts turns it into the JSON error body.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
