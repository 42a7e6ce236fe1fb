/**
 * The label values of the OpenTelemetry semantic conventions for HTTP metrics (`http.server.request.duration`,
 * `http.client.request.duration`, stable since semantic conventions 1.23), as Prometheus names them:
 * attribute dots become underscores. Tools built for those conventions (dashboards, SLO generators, the
 * OpenTelemetry Collector's span metrics) read these names without a mapping of their own.
 */

/** The bucket boundaries both conventions advise, in seconds. */
export const ADVISED_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** RFC 9110's methods and PATCH: any other is `_OTHER`, so that a client cannot add series of its own. */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

export function requestMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/**
 * `error.type` of a server's answer: its status code for a 5xx, none otherwise (a 4xx is the client's
 * error, not the server's, in the conventions' span status).
 */
export function serverErrorType(statusCode: number): string | undefined {
  return statusCode >= 500 ? String(statusCode) : undefined;
}

/** `error.type` of an answer a client received: its status code for a 4xx or 5xx, none otherwise. */
export function clientErrorType(statusCode: number): string | undefined {
  return statusCode >= 400 ? String(statusCode) : undefined;
}

/** `server.address` and `server.port` of a base URL, the port the scheme's default when the URL names none. */
export function serverOf(baseUrl: string): { address: string; port: number } {
  const url = new URL(baseUrl);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  // An IPv6 literal is bracketed in a URL, bare in `server.address`.
  return { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
