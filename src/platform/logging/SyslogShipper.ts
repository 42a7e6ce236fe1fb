import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';

export interface SyslogShipperOptions {
  /** The collector: `tcp://host:port`. */
  url: string;
  /** RFC 5424 APP-NAME of every message: the collector files lines by it (one file per instance and day). */
  appName: string;
  /** The most bytes held while the collector cannot take them; lines past it are dropped and counted. */
  bufferBytes: number;
  /** Told once the held lines are delivered, with how many were dropped since delivery last resumed. */
  onResume: (dropped: number) => void;
}

/** Facility local0 (16), the first of those left to applications; severities as RFC 5424 numbers them. */
const FACILITY = 16 * 8;
const SEVERITY: Record<string, number> = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 };
const LEVEL_PREFIX = '{"level":"';
/** Held lines are written in chunks of about this many bytes. */
const CHUNK_BYTES = 64 * 1024;
/**
 * The longest message a collector takes whole (the shipped rsyslog's maxMessageSize): a longer one would
 * be cut there and its rest read as a message of its own. It is dropped and counted instead; the local
 * copy keeps it.
 */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5000;
/** A connection that lasted this long was a good one: the next failure starts the backoff afresh. */
const HEALTHY_CONNECTION_MS = 5000;

/**
 * Ships log lines to a syslog collector over TCP (RFC 5424 messages, octet-counted as RFC 6587 frames
 * them), as the line is logged and before it reaches standard output: a line the local copy has was
 * handed to the kernel for the collector first, so a process killed a moment later has lost nothing it
 * wrote while the collector kept up.
 *
 * A collector that is slow or down never blocks the service: lines wait in a buffer of `bufferBytes`
 * while it cannot take them, and past that are dropped, counted (`droppedLines`, exported as
 * `log_lines_dropped_total`) and said by `onResume` once the buffer has been delivered; so is a line too
 * long for the collector. Plain TCP has no acknowledgement: what was in the kernel's buffers when a
 * connection broke is lost uncounted, and the connections lost are counted instead.
 */
export class SyslogShipper {
  readonly #host: string;
  readonly #port: number;
  readonly #header: string;
  readonly #options: SyslogShipperOptions;
  #socket: Socket | undefined;
  #connected = false;
  #closing = false;
  #reconnectMs = RECONNECT_FIRST_MS;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Frames waiting for the collector, oldest first. */
  #held: string[] = [];
  #heldBytes = 0;
  #dropped = 0;
  #droppedSinceResume = 0;
  #connectionsLost = 0;
  #connectedAt = 0;

  constructor(options: SyslogShipperOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'tcp:' || !url.port) throw new Error(`not a tcp://host:port URL: ${options.url}`);
    this.#host = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(url.port);
    this.#options = options;
    // HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA: the same on every message of this process.
    this.#header = ` ${hostname() || '-'} ${options.appName} ${process.pid} - - `;
    this.#connect();
  }

  /** Lines dropped since the start because the buffer was full. */
  get droppedLines(): number {
    return this.#dropped;
  }

  /**
   * Connections that broke or that the collector closed: what TCP had in flight on them may be lost. A
   * collector that closes each connection at once (a wrong port, a server of another protocol) shows as
   * this rising, with nothing dropped.
   */
  get connectionsLost(): number {
    return this.#connectionsLost;
  }

  /** Bytes held for the collector now. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** A pino line (one JSON object and its newline): never blocks, never throws. */
  write(line: string): void {
    if (this.#closing) return;
    const frame = this.#frame(line);
    if (frame === undefined) {
      this.#drop();
      // Said once the next line can be: now, when nothing is held.
      if (this.#connected && this.#held.length === 0) queueMicrotask(() => this.#deliverHeld());
      return;
    }
    if (this.#connected && this.#held.length === 0 && !this.#socket?.writableNeedDrain) {
      this.#socket?.write(frame);
      return;
    }
    const bytes = Buffer.byteLength(frame);
    if (this.#heldBytes + bytes > this.#options.bufferBytes) {
      this.#drop();
      return;
    }
    this.#held.push(frame);
    this.#heldBytes += bytes;
  }

  /** Delivers what is held, waiting at most `timeoutMs`, then closes the connection. */
  async close(timeoutMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (
      this.#connected &&
      (this.#held.length > 0 || this.#socket?.writableLength) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#closing = true;
    clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    if (!socket) return;
    // Held open (ref) until the collector has closed its end too: the process waits for its last lines.
    socket.ref();
    await new Promise<void>((resolve) => {
      const giveUp = setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now()));
      socket.once('close', () => {
        clearTimeout(giveUp);
        resolve();
      });
      socket.end();
    });
  }

  #drop(): void {
    this.#dropped++;
    this.#droppedSinceResume++;
  }

  /** The line as one octet-counted RFC 5424 message; undefined when it is too long for the collector. */
  #frame(line: string): string | undefined {
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    const level = text.startsWith(LEVEL_PREFIX)
      ? text.slice(LEVEL_PREFIX.length, text.indexOf('"', LEVEL_PREFIX.length))
      : 'info';
    const message = `<${FACILITY + (SEVERITY[level] ?? 6)}>1 ${new Date().toISOString()}${this.#header}${text}`;
    const bytes = Buffer.byteLength(message);
    return bytes > MAX_MESSAGE_BYTES ? undefined : `${bytes} ${message}`;
  }

  #connect(): void {
    const socket = connect({ host: this.#host, port: this.#port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.unref();
    socket.on('connect', () => {
      this.#connected = true;
      this.#connectedAt = Date.now();
      this.#deliverHeld();
    });
    socket.on('drain', () => this.#deliverHeld());
    // The collector closed its end (it stopped): writes from now on are held, not written into the void.
    socket.on('end', () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => {
      const wasConnected = this.#connected;
      this.#connected = false;
      this.#socket = undefined;
      if (this.#closing) return;
      if (wasConnected) {
        this.#connectionsLost++;
        // A collector that closes every connection at once is not retried four times a second.
        if (Date.now() - this.#connectedAt >= HEALTHY_CONNECTION_MS) this.#reconnectMs = RECONNECT_FIRST_MS;
      }
      this.#reconnectTimer = setTimeout(() => this.#connect(), this.#reconnectMs);
      this.#reconnectTimer.unref();
      this.#reconnectMs = Math.min(this.#reconnectMs * 2, RECONNECT_MAX_MS);
    });
  }

  #deliverHeld(): void {
    const socket = this.#socket;
    while (socket && this.#connected && this.#held.length > 0 && !socket.writableNeedDrain) {
      let count = 0;
      let bytes = 0;
      while (count < this.#held.length && bytes < CHUNK_BYTES)
        bytes += Buffer.byteLength(this.#held[count++] ?? '');
      const chunk = this.#held.splice(0, count);
      this.#heldBytes -= bytes;
      socket.write(chunk.join(''));
    }
    if (this.#held.length === 0 && this.#droppedSinceResume > 0) {
      const dropped = this.#droppedSinceResume;
      this.#droppedSinceResume = 0;
      this.#options.onResume(dropped);
    }
  }
}
