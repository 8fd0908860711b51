// Generates src/api-types.ts from the server's OpenAPI document with openapi-typescript.
//
//   node scripts/api-types.mjs http://127.0.0.1:8080      (a running `wangge serve`/`wangge demo`)
//   node scripts/api-types.mjs path/to/openapi.json
//
// tests/api-types.test.mjs regenerates it from a fresh server and fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const API_TYPES = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'src/api-types.ts');

const HEADER = `// Generated from GET /api/v1/openapi.json by scripts/api-types.mjs (openapi-typescript). Do not edit:
// run \`npm run api-types -- http://127.0.0.1:PORT\` against a freshly built server instead.
/* eslint-disable */
`;

/**
 * Operation ids must be unique for openapi-typescript; the server's document repeats some (e.g.
 * `list` for plans and jobs). A repeated id gets its path appended, the same way every time.
 */
function uniqueOperationIds(doc) {
  const copy = structuredClone(doc);
  const seen = new Map();
  for (const ops of Object.values(copy.paths ?? {})) {
    for (const op of Object.values(ops)) if (op?.operationId) seen.set(op.operationId, (seen.get(op.operationId) ?? 0) + 1);
  }
  for (const [path, ops] of Object.entries(copy.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      if (op?.operationId && seen.get(op.operationId) > 1) {
        op.operationId = `${op.operationId}_${method}_${path.replace(/^\/api\/v1\//, '').replace(/[^A-Za-z0-9]+/g, '_')}`;
      }
    }
  }
  return copy;
}

/**
 * Prose (descriptions, summaries, the info block) is left out: the types, and so the drift test, change
 * with paths, methods, parameters, bodies and status codes, not with the wording of the document.
 */
function withoutProse(value) {
  if (Array.isArray(value)) return value.map(withoutProse);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'description' || k === 'summary') && typeof v === 'string') continue;
      out[k] = withoutProse(v);
    }
    return out;
  }
  return value;
}

/** The TypeScript text for an OpenAPI document (parsed JSON). */
export async function apiTypesSource(doc) {
  const ast = await openapiTS(withoutProse(uniqueOperationIds(doc)), { alphabetize: true });
  return HEADER + astToString(ast);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const from = process.argv[2] ?? process.env.WANGGE_API ?? 'http://127.0.0.1:8080';
  const doc = /^https?:/.test(from)
    ? await (await fetch(new URL('api/v1/openapi.json', from.replace(/\/?$/, '/')))).json()
    : JSON.parse(readFileSync(from, 'utf8'));
  writeFileSync(API_TYPES, await apiTypesSource(doc));
  console.log(`wrote ${API_TYPES} (${Object.keys(doc.paths ?? {}).length} paths)`);
}
