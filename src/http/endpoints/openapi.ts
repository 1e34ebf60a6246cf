/**
 * GET /openapi.json: the OpenAPI 3.1 description of this API (docs/openapi.json, the same file
 * the documentation links to). Read and checked to be JSON once, when the route table is
 * built, so a broken file stops the start-up instead of failing requests, and every answer is
 * the same buffer. Public, like discovery: it describes endpoints, not data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import { PACKAGE_ROOT } from '../../shared/paths';
import type { AppState } from '../types';

export const OPENAPI_PATH = '/openapi.json';
export const OPENAPI_FILE = join(PACKAGE_ROOT, 'docs', 'openapi.json');
const MAX_AGE_SECONDS = 300;

export function openapi(file: string = OPENAPI_FILE): Middleware<AppState> {
  const text = readFileSync(file, 'utf8');
  JSON.parse(text); // fail at start-up, not per request, if the document is not JSON
  const body = Buffer.from(text, 'utf8');
  return (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}
