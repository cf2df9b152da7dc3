/**
 * The static pages: `GET /` (public/index.html), `GET /dashboard` (public/dashboard.html) and
 * `GET /assets/<file>` (public/assets/). Plain files, no build step; a path that would leave
 * public/assets/ (dot segments, encoded separators, symlinks) is answered 404.
 * @module
 */

import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import type { Route } from '../context.js';
import { HttpError } from '../errors.js';

/** Content types by extension; anything else is served as bytes. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

const notFound = (path: string): HttpError => new HttpError(404, 'not_found', `no such page: ${path}`);

/** Sends one file with its content type and a validator; `304` when the browser has it. */
async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, shownPath: string): Promise<void> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch {
    throw notFound(shownPath);
  }
  if (!info.isFile()) throw notFound(shownPath);
  const etag = `W/"${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}"`;
  const headers = {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    etag,
    'last-modified': info.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(info.size) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((done) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      res.destroy();
      done();
    });
    res.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(res);
  });
}

/**
 * Maps `/assets/<path>` to a file inside `assetsDir`, or `undefined` when the path is not a
 * plain relative path to a visible file there.
 */
export function assetPath(assetsDir: string, pathname: string): string | undefined {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice('/assets/'.length));
  } catch {
    return undefined;
  }
  if (relative === '' || relative.includes('\0') || relative.includes('\\')) return undefined;
  // No empty, dot or hidden segments: "..", ".", "//", ".env".
  if (relative.split('/').some((segment) => segment === '' || segment.startsWith('.'))) return undefined;
  const root = resolve(assetsDir);
  const file = resolve(root, relative);
  return file.startsWith(root + sep) ? file : undefined;
}

/** The routes of the static pages, served from `publicDir`. */
export function pageRoutes(publicDir: string): { index: Route; dashboard: Route; assets: Route } {
  const page = (name: string): Route => {
    const get = (req: IncomingMessage, res: ServerResponse, url: URL) => sendFile(req, res, join(publicDir, name), url.pathname);
    return { GET: get, HEAD: get };
  };
  const assetsDir = join(publicDir, 'assets');
  const asset = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const file = assetPath(assetsDir, url.pathname);
    if (file === undefined) throw notFound(url.pathname);
    // A symlink inside assets/ must not lead outside it either.
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([realpath(file), realpath(assetsDir)]);
    } catch {
      throw notFound(url.pathname);
    }
    if (!real.startsWith(realRoot + sep)) throw notFound(url.pathname);
    await sendFile(req, res, real, url.pathname);
  };
  return { index: page('index.html'), dashboard: page('dashboard.html'), assets: { GET: asset, HEAD: asset } };
}
