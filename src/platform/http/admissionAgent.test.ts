import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import { AGENT_MARGIN, listenAdmissionAgent } from './admissionAgent.ts';

/** What an agent check reads: one connection, its text until the agent closes it. */
async function readAgent(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk;
  });
  await once(socket, 'end');
  socket.destroy();
  return text;
}

const agentReporting = (limit: () => number, port = 0) =>
  listenAdmissionAgent({ host: '127.0.0.1', port, limit, logger: pino({ level: 'silent' }) });

test('the agent answers each connection with the limit of the moment, less its margin, as maxconn', async () => {
  let limit = 36;
  const agent = await agentReporting(() => limit);
  try {
    assert.equal(await readAgent(agent.port), `maxconn:${36 - AGENT_MARGIN}\n`);
    limit = 9.7;
    assert.equal(await readAgent(agent.port), `maxconn:${9 - AGENT_MARGIN}\n`);
    // Never 0: HAProxy reads maxconn 0 as no limit at all.
    limit = 0;
    assert.equal(await readAgent(agent.port), 'maxconn:1\n');
  } finally {
    await agent.close();
  }
});

test('a checker that resets the connection, as HAProxy does, costs the agent nothing', async () => {
  const agent = await agentReporting(() => 5);
  try {
    for (let i = 0; i < 20; i++) {
      const socket = connect(agent.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.resetAndDestroy();
    }
    assert.equal(await readAgent(agent.port), `maxconn:${5 - AGENT_MARGIN}\n`);
  } finally {
    await agent.close();
  }
});

test('a port already taken fails the start, not later', async () => {
  const first = await agentReporting(() => 1);
  try {
    await assert.rejects(
      agentReporting(() => 1, first.port),
      /EADDRINUSE/,
    );
  } finally {
    await first.close();
  }
});
