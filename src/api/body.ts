/**
 * Request bodies are untrusted: at most MAX_BODY_BYTES (413 beyond, without
 * reading the rest), JSON only (415 for any other Content-Type, as fleet
 * did), and one 400 for text that is not JSON. What the JSON must look like
 * is schema.ts's business.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** fleet's check: exactly one Content-Type whose media type is application/json (parameters such as charset allowed). */
export function checkJsonContentType(req: IncomingMessage): void {
  const values = req.headersDistinct['content-type'] ?? [];
  if (values.length !== 1) throw new ApiError(415, `expected 1 Content-Type header, got ${values.length}: send Content-Type: application/json`);
  const media = values[0]!.split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') throw new ApiError(415, `Content-Type ${JSON.stringify(values[0])} is not accepted: send Content-Type: application/json`);
}

/** The raw body, refused (413) as soon as it is known to exceed `limit`. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, `request body exceeds ${limit / 1024} KiB: send a smaller body (unit files are far smaller)`, { Connection: 'close' });
}

/** Content-Type, size, then JSON text; the value is still untyped. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  checkJsonContentType(req);
  const bytes = await readBody(req, limit);
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'request body is empty: send a JSON document');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError(400, `unable to decode body: ${(err as Error).message.split('\n')[0]}`);
  }
}
