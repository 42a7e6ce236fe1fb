import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';

export interface AdmissionAgent {
  port: number;
  close: () => Promise<void>;
}

/**
 * HAProxy's agent check (`agent-check agent-port N` on a server line): at each of its intervals HAProxy
 * opens a TCP connection here and reads one line, `maxconn:<limit>`, which becomes that server's maxconn.
 * The balancer then holds no more requests on this instance than its admission limit lets in, and the
 * rest are refused at the balancer in microseconds, not carried to an instance busy enough to take
 * tens of milliseconds only to refuse them. The agent says nothing of the instance's state (up, drain):
 * its health checks own that.
 *
 * It reports the limit less a margin: HAProxy frees a slot as soon as it has read an answer, the instance
 * a moment later, when its response closes, and the limit may have stepped down since the last report.
 * A checkout sent into either gap would be refused by the instance, later and at a higher cost.
 */
export const AGENT_MARGIN = 2;

export async function listenAdmissionAgent(options: {
  host: string;
  port: number;
  limit: () => number;
  logger: Logger;
}): Promise<AdmissionAgent> {
  const server = createServer((socket) => {
    // HAProxy resets the connection once it has its line: nothing to learn from the error.
    socket.on('error', () => {});
    socket.setTimeout(1000, () => socket.destroy());
    socket.end(`maxconn:${Math.max(1, Math.floor(options.limit()) - AGENT_MARGIN)}\n`);
  });
  server.listen({ host: options.host, port: options.port });
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  // Past its start a failing accept (out of file descriptors) costs one check, never the process.
  server.on('error', (error) =>
    logEvent(options.logger, 'warn', 'admission_agent_failed', {
      errorClass: error.name,
      reason: error.message,
    }),
  );
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}
