import { connect } from 'node:net';

/** One answer read off the wire. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  /** The body, decoded as UTF-8 (chunked bodies joined). */
  text: string;
}

/**
 * Sends `request` (latin1: one byte per character, any byte) over a connection of its own and reads the
 * answers until the server closes the connection, or a final answer has come whole and nothing followed
 * it for a moment, or `timeoutMs` passes. For what an HTTP client library refuses to write: control
 * bytes in a header, no Host, two Content-Lengths, odd versions. The connection is not half-closed after
 * the request: Node's server takes a client's end as the abort of what it has not answered yet.
 */
export async function sendRaw(
  url: string,
  request: string,
  timeoutMs = 3000,
): Promise<{ answers: RawAnswer[]; unparsed: string; timedOut: boolean }> {
  const { hostname, port } = new URL(url);
  const head = request.startsWith('HEAD ');
  const chunks: Buffer[] = [];
  const timedOut = await new Promise<boolean>((resolve) => {
    const socket = connect(Number(port), hostname);
    let quiet: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(true);
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      const { answers, rest } = parseAnswers(Buffer.concat(chunks), head);
      if (rest.length === 0 && answers.some((a) => a.status >= 200)) {
        quiet = setTimeout(() => socket.destroy(), 20);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(quiet);
      resolve(false);
    });
    socket.write(Buffer.from(request, 'latin1'));
  });
  const { answers, rest } = parseAnswers(Buffer.concat(chunks), head);
  return { answers, unparsed: rest.toString('latin1'), timedOut };
}

/** HTTP/1.1 answers one after another (interim 1xx included), each framed by its length or chunks. */
export function parseAnswers(data: Buffer, head = false): { answers: RawAnswer[]; rest: Buffer } {
  const answers: RawAnswer[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [statusLine = '', ...lines] = data.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!status) break;
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    let bodyStart = end + 4;
    let body: Buffer = Buffer.alloc(0);
    if (status >= 200 && status !== 204 && status !== 304 && !head) {
      if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
        const parts: Buffer[] = [];
        for (;;) {
          const lineEnd = data.indexOf('\r\n', bodyStart);
          if (lineEnd < 0) break;
          const size = Number.parseInt(data.subarray(bodyStart, lineEnd).toString('latin1'), 16);
          bodyStart = lineEnd + 2;
          if (!(size > 0)) {
            bodyStart += 2;
            break;
          }
          parts.push(data.subarray(bodyStart, bodyStart + size));
          bodyStart += size + 2;
        }
        body = Buffer.concat(parts);
      } else if (headers.has('content-length')) {
        const length = Number(headers.get('content-length'));
        body = data.subarray(bodyStart, bodyStart + length);
        bodyStart += length;
      } else {
        body = data.subarray(bodyStart);
        bodyStart = data.length;
      }
    }
    answers.push({ status, headers, text: body.toString('utf8') });
    at = bodyStart;
  }
  return { answers, rest: data.subarray(at) };
}
