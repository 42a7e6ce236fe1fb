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

test('the agent answers each connection with the limit of the moment, less its margin, as maxconn', async () => {
  let limit = 36;
  const agent = await listenAdmissionAgent({
    host: '127.0.0.1',
    port: 0,
    limit: () => limit,
    logger: pino({ level: 'silent' }),
  });
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
  const agent = await listenAdmissionAgent({
    host: '127.0.0.1',
    port: 0,
    limit: () => 5,
    logger: pino({ level: 'silent' }),
  });
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
  const first = await listenAdmissionAgent({
    host: '127.0.0.1',
    port: 0,
    limit: () => 1,
    logger: pino({ level: 'silent' }),
  });
  try {
    await assert.rejects(
      listenAdmissionAgent({
        host: '127.0.0.1',
        port: first.port,
        limit: () => 1,
        logger: pino({ level: 'silent' }),
      }),
      /EADDRINUSE/,
    );
  } finally {
    await first.close();
  }
});
