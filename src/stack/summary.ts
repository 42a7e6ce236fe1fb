import { join } from 'node:path';
import type { StackInfo } from './stackFile.ts';

/** What the terminal shows once the stack is up: where everything is, and a checkout to try. */
export function printSummary(info: StackInfo, dataDir: string, elapsedMs: number): void {
  const curl = [
    `curl -i -X POST ${info.checkoutUrl}/api/checkout/complete`,
    `  -H 'Authorization: Bearer ${info.demoToken}'`,
    `  -H 'Content-Type: application/json'`,
    `  -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)"`,
    `  -d '{"cartId":"${info.demoCartId}","paymentToken":"pm_card_visa"}'`,
  ].join(' \\\n');
  // Behind HAProxy each instance serves its own, on its management listener.
  const operatorUrls = info.instances.every((i) => i.managementUrl)
    ? info.instances.map((i) => i.managementUrl as string)
    : [info.checkoutUrl];
  process.stdout.write(
    [
      '',
      `Steadfast is up (${(elapsedMs / 1000).toFixed(1)} s).`,
      `  checkout         ${info.checkoutUrl}   (health: ${info.checkoutUrl}/health, API: ${info.checkoutUrl}/openapi.json)`,
      `  API reference    ${operatorUrls.map((url) => `${url}/docs`).join(', ')}`,
      `  dashboard        ${operatorUrls.map((url) => `${url}/dashboard`).join(', ')}`,
      ...(info.haproxyStatsUrl
        ? [
            `  instances        ${info.instances.map((i) => i.url).join(', ')} behind HAProxy (stats: ${info.haproxyStatsUrl})`,
          ]
        : []),
      `  inventory        ${info.inventoryUrl}`,
      `  payment sandbox  ${info.paymentUrl}`,
      `  PostgreSQL       ${info.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
      ...(info.prometheusUrl
        ? [`  Prometheus       ${info.prometheusUrl}   (alerts: ${info.prometheusUrl}/alerts)`]
        : []),
      ...(info.alertmanagerUrl ? [`  Alertmanager     ${info.alertmanagerUrl}`] : []),
      `  logs             ${join(dataDir, 'logs')}`,
      ...(info.centralLogs
        ? [`  central logs     ${info.centralLogs.logsDir}   (collector: ${info.centralLogs.url})`]
        : []),
      `  stack facts      ${join(dataDir, 'stack.json')}, ${join(dataDir, 'stack.env')}`,
      '',
      `Demo user ${info.demoUserId}, token (30 days):`,
      `  ${info.demoToken}`,
      '',
      'Complete the demo checkout:',
      curl,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}
