/**
 * fleet's page tokens, bit for bit, so fleet's clients page through
 * Flotilla as they did through fleetd: URL-safe base64 (with padding) of four
 * bytes, the page size and the 1-based page number as little-endian uint16.
 * A token names the page size it was made for; one made for another size is
 * refused rather than silently re-cut. Pure.
 */
import { ApiError } from './errors.js';

export interface PageRequest {
  limit: number;
  /** 1-based. */
  page: number;
}

export function encodeToken(p: PageRequest): string {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(p.limit, 0);
  b.writeUInt16LE(p.page, 2);
  return b.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

const TOKEN = /^[A-Za-z0-9_-]{6}==$/;

export function decodeToken(token: string, limit: number): PageRequest {
  if (!TOKEN.test(token)) throw new ApiError(400, `invalid nextPageToken ${JSON.stringify(token.slice(0, 64))}: pass back a token this API returned`);
  const b = Buffer.from(token.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  const p = { limit: b.readUInt16LE(0), page: b.readUInt16LE(2) };
  if (p.limit !== limit) throw new ApiError(400, `token limit must be ${limit}: the token was made for pages of ${p.limit}`);
  if (p.page === 0) throw new ApiError(400, 'token page must be greater than zero');
  return p;
}

/** The page a request asks for, from its query string (no token: the first). */
export function pageRequest(query: URLSearchParams, limit: number): PageRequest {
  const tokens = query.getAll('nextPageToken');
  if (tokens.length > 1) throw new ApiError(400, 'too many values for page token: pass one nextPageToken');
  return tokens.length === 0 ? { limit, page: 1 } : decodeToken(tokens[0]!, limit);
}

/** One page of `items` and the token of the next one, if any remain. */
export function paginate<T>(items: readonly T[], p: PageRequest): { items: T[]; nextPageToken?: string } {
  const start = (p.page - 1) * p.limit;
  const page = items.slice(start, start + p.limit);
  // Page numbers are 16 bits: past the last one there is no token (65535 pages of 1 item is the extreme).
  if (start + p.limit < items.length && p.page < 0xffff) return { items: page, nextPageToken: encodeToken({ limit: p.limit, page: p.page + 1 }) };
  return { items: page };
}
