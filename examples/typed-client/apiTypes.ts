import openapiTS, { astToString } from 'openapi-typescript';

/**
 * The TypeScript types of an OpenAPI document, as openapi-typescript writes them. It lives here, with its
 * own TypeScript 5 (openapi-typescript drives the TypeScript compiler's API, which the project's own
 * TypeScript, 7, no longer has).
 */
export async function renderApiTypes(document: unknown): Promise<string> {
  const header =
    "// Generated from the checkout service's GET /openapi.json by `npm run api:types`; do not edit.\n";
  return header + astToString(await openapiTS(document as Parameters<typeof openapiTS>[0]));
}
