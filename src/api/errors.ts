/**
 * The API's errors: an HTTP status and one line (a refused sync plan or
 * tree: one line per reason, see source-routes.ts), served in fleet's body
 * `{"error":{"code":N,"message":"..."}}`. Handlers throw ApiError for what
 * they refuse; errors from the client library are mapped here in one place
 * (bad input 400, store unreachable 503, anything else 500 without detail:
 * an internal error's text is for the daemon's log, not for clients).
 */
import { FlotillaError, InvalidInputError, StoreUnavailableError } from '../util/errors.js';

export class ApiError extends FlotillaError {
  constructor(
    readonly status: number,
    message: string,
    /** Extra headers (Allow on a 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: number; message?: string };
}

export function errorBody(status: number, message: string): ErrorBody {
  return { error: message === '' ? { code: status } : { code: status, message } };
}

export interface MappedError {
  status: number;
  message: string;
  headers: Readonly<Record<string, string>>;
  /** Not the client's fault: worth a line in the daemon's log. */
  internal: boolean;
}

export function mapError(err: unknown): MappedError {
  if (err instanceof ApiError) return { status: err.status, message: err.message, headers: err.headers, internal: false };
  if (err instanceof StoreUnavailableError) return { status: 503, message: err.message, headers: { 'Retry-After': '1' }, internal: false };
  if (err instanceof InvalidInputError) return { status: 400, message: oneLine(err.message), headers: {}, internal: false };
  return { status: 500, message: '', headers: {}, internal: true };
}

function oneLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
