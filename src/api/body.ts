/**
 * Request bodies are untrusted: at most MAX_BODY_BYTES (413 beyond, without
 * reading the rest), JSON only (415 for any other Content-Type, as fleet
 * did), and one 400 for text that is not JSON. What the JSON must look like
 * is schema.ts's business.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * After a 413 the rest of the body is read and dropped, up to this much, so
 * the client (still writing) receives the answer instead of a broken pipe;
 * beyond it the connection is cut.
 */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;

/** fleet's check: exactly one Content-Type whose media type is application/json (parameters such as charset allowed). */
export function checkJsonContentType(req: IncomingMessage): void {
  const values = req.headersDistinct['content-type'] ?? [];
  if (values.length !== 1) throw new ApiError(415, `expected 1 Content-Type header, got ${values.length}: send Content-Type: application/json`);
  const media = values[0]!.split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') throw new ApiError(415, `Content-Type ${JSON.stringify(values[0])} is not accepted: send Content-Type: application/json`);
}

/**
 * The raw body, refused (413) as soon as it is known to exceed `limit`
 * (declared or counted); what follows is drained (see DRAIN_MAX_BYTES).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    drain(req, declared > limit + DRAIN_MAX_BYTES ? 0 : DRAIN_MAX_BYTES);
    return Promise.reject(tooLarge(limit, declared > limit + DRAIN_MAX_BYTES));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      drain(req, DRAIN_MAX_BYTES);
      reject(tooLarge(limit, false));
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks, size));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

/** Read and drop what is left of the body; cut the connection past `max` bytes. */
function drain(req: IncomingMessage, max: number): void {
  let dropped = 0;
  if (max === 0) return;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > max) req.socket.destroy();
  });
  req.resume();
}

function tooLarge(limit: number, cut: boolean): ApiError {
  return new ApiError(413, `request body exceeds ${limit / 1024} KiB: send a smaller body (unit files are far smaller)`, cut ? { Connection: 'close' } : {});
}

/** Deeper than any body the API takes (a PATCH value object is 3 levels). */
export const MAX_JSON_DEPTH = 16;

/** The deepest [ / { nesting outside strings; stops counting once past the limit. Linear, no allocation. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Content-Type, size, then JSON text; the value is still untyped. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  checkJsonContentType(req);
  const bytes = await readBody(req, limit);
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'request body is empty: send a JSON document');
  // JSON.parse takes ~300 ms for a megabyte of "[[[[...": refuse deep nesting before parsing.
  if (nestingDepth(text) > MAX_JSON_DEPTH) throw new ApiError(400, `request body nests deeper than ${MAX_JSON_DEPTH} levels: no API body needs that`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError(400, `unable to decode body: ${(err as Error).message.split('\n')[0]}`);
  }
}
