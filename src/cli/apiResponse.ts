/**
 * cli/apiResponse: reading Engine API responses in the CLI's own request helpers —
 * bounded bodies and docker's error text for a failed request.
 */
import http from 'node:http';
import { ApiError } from '../client/errors.js';

const MAX_ERROR_BODY = 1024 * 1024;

export function readBody(res: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    res.on('data', (c: Buffer) => {
      len += c.length;
      if (len <= limit) chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

export async function responseError(res: http.IncomingMessage, url: string): Promise<Error> {
  const status = res.statusCode ?? 0;
  const body = await readBody(res, MAX_ERROR_BODY);
  const statusMsg = `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
  if (body.length === 0) {
    return new ApiError(status, `request returned ${statusMsg} for API route and version ${url}, check if the server supports the requested API version`);
  }
  const ctype = (res.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (ctype === 'application/json') {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown };
      if (typeof parsed.message === 'string' && parsed.message !== '') return new ApiError(status, parsed.message.trim());
    } catch {
      // fall through to the raw text
    }
  }
  return new ApiError(status, body.toString('utf8').trim());
}
