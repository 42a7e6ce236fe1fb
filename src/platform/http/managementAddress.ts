/**
 * The port the operator's surfaces (metrics, dashboard, API reference) take in production when none is
 * set: the Prometheus exporters' convention (OpenTelemetry's exporter uses it), on MANAGEMENT_HOST, loopback
 * by default, so nothing an operator did not choose to open is reachable from the network.
 */
export const PRODUCTION_MANAGEMENT_PORT = 9464;

export interface ManagementSettings {
  NODE_ENV: string;
  PORT: number;
  MANAGEMENT_HOST: string;
  MANAGEMENT_PORT?: number | undefined;
}

/**
 * Where the management surfaces listen, apart from the API; undefined when they share the API's
 * listener. Outside production they share it unless MANAGEMENT_PORT says otherwise (one URL for
 * `steadfast start`); in production they take PRODUCTION_MANAGEMENT_PORT unless it says otherwise. A
 * MANAGEMENT_PORT equal to a fixed PORT asks for the shared listener (as Spring Boot's
 * `management.server.port` does).
 */
export function managementAddress(config: ManagementSettings): { host: string; port: number } | undefined {
  const port =
    config.MANAGEMENT_PORT ?? (config.NODE_ENV === 'production' ? PRODUCTION_MANAGEMENT_PORT : undefined);
  if (port === undefined || (port === config.PORT && port !== 0)) return undefined;
  return { host: config.MANAGEMENT_HOST, port };
}
