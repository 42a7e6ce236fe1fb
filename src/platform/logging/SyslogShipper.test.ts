import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_MESSAGE_BYTES, SyslogShipper } from './SyslogShipper.ts';

/** A collector of our own: parses octet-counted RFC 5424 frames into [priority, app, message]. */
class Collector {
  readonly messages: { priority: number; app: string; text: string }[] = [];
  readonly sockets = new Set<Socket>();
  readonly server: Server;

  constructor() {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const space = pending.indexOf(32);
          if (space < 0) return;
          const length = Number(pending.subarray(0, space).toString());
          if (pending.length < space + 1 + length) return;
          const message = pending.subarray(space + 1, space + 1 + length).toString();
          pending = pending.subarray(space + 1 + length);
          const parsed = /^<(\d+)>1 \S+ \S+ (\S+) \d+ - - (.*)$/s.exec(message);
          assert.ok(parsed, `an RFC 5424 message: ${message}`);
          this.messages.push({
            priority: Number(parsed[1]),
            app: String(parsed[2]),
            text: String(parsed[3]),
          });
        }
      });
    });
  }

  async listen(port = 0): Promise<number> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async until(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count && Date.now() < deadline) await sleep(10);
    assert.equal(this.messages.length, count, 'every line delivered');
  }
}

const line = (n: number, level = 'info') => `${JSON.stringify({ level, n, msg: 'x'.repeat(100) })}\n`;

describe('SyslogShipper', () => {
  it('delivers each line as one message, with its severity and the app name', async () => {
    const collector = new Collector();
    const port = await collector.listen();
    const shipper = new SyslogShipper({
      url: `tcp://127.0.0.1:${port}`,
      appName: 'checkout-2',
      bufferBytes: 1e6,
      onResume: () => assert.fail('nothing was dropped'),
    });
    shipper.write(line(1, 'info'));
    shipper.write(line(2, 'error'));
    shipper.write(`${JSON.stringify({ level: 'warn', text: 'a line\nwith a newline and ünïcode' })}\n`);
    await collector.until(3);
    assert.deepEqual(
      collector.messages.map((m) => [m.priority, m.app]),
      [
        [134, 'checkout-2'],
        [131, 'checkout-2'],
        [132, 'checkout-2'],
      ],
    );
    assert.equal(JSON.parse(collector.messages[2]?.text ?? '').text, 'a line\nwith a newline and ünïcode');
    await shipper.close();
    await collector.close();
  });

  it('holds lines while the collector is down and delivers them, in order, once it listens', async () => {
    const collector = new Collector();
    const port = await collector.listen();
    await collector.close();
    const shipper = new SyslogShipper({
      url: `tcp://127.0.0.1:${port}`,
      appName: 'checkout',
      bufferBytes: 1e6,
      onResume: () => assert.fail('nothing was dropped'),
    });
    for (let n = 0; n < 100; n++) shipper.write(line(n));
    await sleep(300);
    assert.ok(shipper.heldBytes > 0, 'held while the collector is down');
    const back = new Collector();
    await back.listen(port);
    await back.until(100, 10_000);
    assert.deepEqual(
      back.messages.map((m) => JSON.parse(m.text).n),
      Array.from({ length: 100 }, (_, n) => n),
    );
    assert.equal(shipper.heldBytes, 0);
    await shipper.close();
    await back.close();
  });

  it('never holds more than its buffer; counts what it dropped and says so once delivery resumes', async () => {
    const collector = new Collector();
    const port = await collector.listen();
    const resumed: number[] = [];
    const bufferBytes = 64 * 1024;
    const shipper = new SyslogShipper({
      url: `tcp://127.0.0.1:${port}`,
      appName: 'checkout',
      bufferBytes,
      onResume: (dropped) => resumed.push(dropped),
    });
    await sleep(100);
    // The collector stops reading: the kernel's buffers fill, then the shipper's.
    for (const socket of collector.sockets) socket.pause();
    const written = 200_000;
    let maxHeld = 0;
    for (let n = 0; n < written; n++) {
      shipper.write(line(n));
      maxHeld = Math.max(maxHeld, shipper.heldBytes);
      if (n % 1000 === 0) await sleep(0);
    }
    assert.ok(maxHeld <= bufferBytes, `held ${maxHeld} bytes of ${bufferBytes}`);
    assert.ok(shipper.droppedLines > 0, 'lines past the buffer are dropped');
    assert.deepEqual(resumed, [], 'said only once delivery resumes');
    for (const socket of collector.sockets) socket.resume();
    await collector.until(written - shipper.droppedLines, 20_000);
    assert.deepEqual(resumed, [shipper.droppedLines], 'the drop said once, with its count');
    await shipper.close();
    await collector.close();
  });

  it('reconnects when the collector closes the connection, and loses nothing written after', async () => {
    const collector = new Collector();
    const port = await collector.listen();
    const shipper = new SyslogShipper({
      url: `tcp://127.0.0.1:${port}`,
      appName: 'checkout',
      bufferBytes: 1e6,
      onResume: () => assert.fail('nothing was dropped'),
    });
    shipper.write(line(0));
    await collector.until(1);
    for (const socket of collector.sockets) socket.end();
    await sleep(100);
    for (let n = 1; n <= 50; n++) shipper.write(line(n));
    await collector.until(51, 10_000);
    await shipper.close();
    await collector.close();
  });

  it('drops a line too long for the collector, counts it and says so, and ships the next', async () => {
    const collector = new Collector();
    const port = await collector.listen();
    const resumed: number[] = [];
    const shipper = new SyslogShipper({
      url: `tcp://127.0.0.1:${port}`,
      appName: 'checkout',
      bufferBytes: 1e6,
      onResume: (dropped) => resumed.push(dropped),
    });
    await sleep(100);
    shipper.write(`${JSON.stringify({ level: 'fatal', stack: 'x'.repeat(MAX_MESSAGE_BYTES) })}\n`);
    shipper.write(line(1));
    await collector.until(1);
    assert.equal(JSON.parse(collector.messages[0]?.text ?? '').n, 1, 'the next line arrives whole');
    assert.equal(shipper.droppedLines, 1);
    assert.deepEqual(resumed, [1]);
    await shipper.close();
    await collector.close();
  });

  it('a collector that closes every connection at once: the losses are counted, the retries back off', async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const shipper = new SyslogShipper({
      url: `tcp://127.0.0.1:${port}`,
      appName: 'checkout',
      bufferBytes: 1e6,
      onResume: () => {},
    });
    for (let n = 0; n < 100; n++) {
      shipper.write(line(n));
      await sleep(30);
    }
    // 3 s: 0.25 + 0.5 + 1 + 2 s of backoff allows four or five connections, not the twelve of a fixed 0.25 s.
    assert.ok(accepted <= 6, `${accepted} connections in 3 s`);
    assert.ok(shipper.connectionsLost >= 2, `${shipper.connectionsLost} connections lost, counted`);
    await shipper.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a URL that is not tcp://host:port', () => {
    for (const url of ['udp://127.0.0.1:514', 'tcp://127.0.0.1', 'http://x:1']) {
      assert.throws(
        () => new SyslogShipper({ url, appName: 'x', bufferBytes: 1, onResume: () => {} }),
        /tcp:\/\/host:port/,
      );
    }
  });
});
