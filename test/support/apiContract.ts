import assert from 'node:assert/strict';
import { Ajv } from 'ajv';

interface MediaType {
  schema?: object;
}
interface ResponseDoc {
  headers?: Record<string, unknown>;
  content?: Record<string, MediaType>;
}
interface OperationDoc {
  operationId?: string;
  responses: Record<string, ResponseDoc>;
}
export interface ApiDocument {
  paths: Record<string, Record<string, OperationDoc>>;
}

/** Headers a client acts on: one of them in a response its document does not declare is drift. */
const CONTRACT_HEADERS = [
  'x-request-id',
  'retry-after',
  'idempotent-replayed',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

/**
 * Checks real answers against the service's own OpenAPI document: the status is one the operation
 * lists, the content type one it declares, the body valid against its schema, and every header a
 * client acts on declared. A route that answers something undocumented fails the test that called it.
 * Paths the document leaves out (health, metrics, unknown routes) are not the API's.
 */
export class ApiContract {
  readonly #document: ApiDocument;
  readonly #ajv = new Ajv({ strict: false, allErrors: true });
  readonly #routes: { pattern: RegExp; path: string }[];
  /** Responses checked, by operation and status: what a suite exercised of the document. */
  readonly seen = new Map<string, Set<string>>();

  constructor(document: ApiDocument) {
    this.#document = document;
    this.#routes = Object.keys(document.paths).map((path) => ({
      path,
      pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  check(method: string, url: string, response: { status: number; headers: Headers; text: string }): void {
    // As the client sent it: dot segments resolved, the query left out.
    const path = new URL(`http://service${url}`).pathname;
    const route = this.#routes.find((r) => r.pattern.test(path));
    const operation = route && this.#document.paths[route.path]?.[method.toLowerCase()];
    // 502 and 504 are the load balancer's own answers (no instance answered), checked where it is tested.
    if (!route || !operation || response.status === 502 || response.status === 504) return;
    const where = `${method} ${path} (${route.path}) answered ${response.status}`;
    const documented = operation.responses[String(response.status)] ?? operation.responses.default;
    assert.ok(documented, `${where}, a status its OpenAPI document does not list: ${response.text}`);
    const seen = this.seen.get(operation.operationId ?? where) ?? new Set<string>();
    seen.add(String(response.status));
    this.seen.set(operation.operationId ?? where, seen);
    for (const header of CONTRACT_HEADERS) {
      if (response.headers.has(header))
        assert.ok(documented.headers?.[header], `${where} with the header ${header}, undocumented`);
    }
    if (!documented.content) return;
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const media = documented.content[contentType];
    assert.ok(media, `${where} as ${contentType}; documented: ${Object.keys(documented.content)}`);
    if (!media.schema) return;
    const validate = this.#ajv.compile(media.schema);
    const valid = validate(JSON.parse(response.text));
    assert.ok(
      valid,
      `${where}, a body its schema refuses: ${this.#ajv.errorsText(validate.errors)}; ${response.text}`,
    );
  }
}
