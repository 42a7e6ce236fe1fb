// An HTTP server run by inspector.test.ts (with --inspect=127.0.0.1:0): each request makes some garbage
// and, with LEAK_BYTES set, keeps that much for good, in the heap (LEAK_KIND=heap) or outside it in a
// Buffer (LEAK_KIND=external). It prints its URL on stdout once listening.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

class LeakedRequest {
  readonly kept: string | Buffer;
  constructor(kept: string | Buffer) {
    this.kept = kept;
  }
}

const leakBytes = Number(process.env.LEAK_BYTES ?? 0);
const kept: LeakedRequest[] = [];
const server = createServer((request, response) => {
  const garbage = JSON.stringify({ url: request.url, filler: 'x'.repeat(4096), at: Date.now() });
  if (leakBytes > 0) {
    kept.push(
      new LeakedRequest(
        process.env.LEAK_KIND === 'external'
          ? Buffer.alloc(leakBytes)
          : randomBytes(leakBytes / 2).toString('hex'),
      ),
    );
  }
  response.end(String(garbage.length));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`http://127.0.0.1:${address.port}\n`);
});
