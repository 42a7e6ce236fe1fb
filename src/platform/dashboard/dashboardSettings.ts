import Type from 'typebox';

/** Settings of the dashboard, spread into a service's settings schema. */
export const dashboardSettings = {
  // The headline's verdict reads these services' /metrics and /health beside the instance's own; a
  // service's dependencies in production (a payment provider) are not asked, only what is listed here.
  DASHBOARD_PEER_URLS: Type.Optional(
    Type.String({
      pattern: '^https?://[^,\\s]+(,https?://[^,\\s]+)*$',
      description:
        'comma-separated http(s) base URLs of the services whose /metrics and /health the dashboard verdict reads',
    }),
  ),
};

/** The peers of DASHBOARD_PEER_URLS, without a trailing slash. */
export function peerUrls(setting: string | undefined): string[] {
  return (setting ?? '')
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}
