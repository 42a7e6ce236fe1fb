import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
// Brings the `hide` schema option (routes left out of the OpenAPI document).
import type {} from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { logEvent, type RequestContext } from '../../contract/logEvents.ts';
import type { ServerErrorNote } from '../dashboard/RecentErrors.ts';
import { AppError } from '../errors/AppError.ts';
import { PlatformErrors } from '../errors/codes.ts';
import type { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { runInTrace, startTrace, type Trace, traceFields } from '../tracing/traceContext.ts';
import { departureOf, leftBeforeAnswer, noteRefusal } from './clientDeparture.ts';
import {
  clientError,
  type ErrorRenderer,
  endpointOf,
  errorHandler,
  REFUSALS,
  rawProblem,
  renderProblem,
  sendError,
} from './errorAnswers.ts';

export type { ErrorRenderer } from './errorAnswers.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Business context (userId, cartId, ...) that the request's log lines carry. */
    logContext: RequestContext;
  }
}

export interface HttpServerOptions {
  logger: Logger;
  /** Every request is counted and timed here; `GET /metrics` serves it. */
  metrics: PlatformMetrics;
  /** False leaves `GET /metrics` off this server: a separate management listener serves it. */
  metricsRoute?: boolean;
  bodyLimit: number;
  /** How long a request's headers, and the whole request, may take to arrive (slow clients get 408). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How long an idle connection waits for its next request (Fastify's own default, 72 s, when unset). */
  keepAliveTimeoutMs?: number;
  /** True while the instance drains for shutdown: new requests are turned away with 503. */
  isDraining?: () => boolean;
  renderError?: ErrorRenderer;
  /** How query strings are read (Node's `querystring` when unset), e.g. with bracket notation for nested keys. */
  querystringParser?: (query: string) => Record<string, unknown>;
  /** Told of every 5xx answered, with its errorId (the dashboard lists the latest). */
  onServerError?: (note: ServerErrorNote) => void;
}

export type HttpServer = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Refusals are what overload looks like, thousands a second: the metrics count each, the log samples them. */
const REFUSAL_LINE_INTERVAL_MS = 1000;

/**
 * Probes (health checks, scrapes) come as floods too, from anyone: a line each would cost the instance
 * most of each answer and rotate the evidence out of its log. Past one line a second per route and
 * status the log samples them (a change of status is logged at once); the metrics count every one.
 */
const PROBE_LINE_INTERVAL_MS = 1000;

/**
 * True at most once per interval; each time, also how many were passed over since, so a sampled line
 * still tells the volume.
 */
function sampleEvery(intervalMs: number): () => { log: boolean; skipped: number } {
  let lastAt = Number.NEGATIVE_INFINITY;
  let skipped = 0;
  return () => {
    const now = performance.now();
    if (now - lastAt < intervalMs) {
      skipped++;
      return { log: false, skipped };
    }
    lastAt = now;
    const passed = skipped;
    skipped = 0;
    return { log: true, skipped: passed };
  };
}

/** Ends a request's span with its route and status (semantic conventions of HTTP servers). */
function endRequestSpan(trace: Trace | undefined, method: string, route: string | undefined, status: number) {
  if (!trace?.span.isRecording()) return;
  const { span } = trace;
  if (route !== undefined) span.updateName(`${method} ${route}`).setAttribute('http.route', route);
  span.setAttribute('http.response.status_code', status);
  if (status >= 500)
    span.setStatus({ code: SpanStatusCode.ERROR }).setAttribute('error.type', String(status));
  span.end();
}

/** Routes an operator or a load balancer polls: answered while draining or overloaded. */
export function isOperationalRoute(url: string): boolean {
  return OPERATIONAL_PATHS.has(url.split('?')[0] ?? url);
}

/** How long a connection the server refused lingers for its answer to be read before it is destroyed. */
const CLIENT_ERROR_LINGER_MS = 1000;

/** Scrapes of `/metrics` served at once; Prometheus makes one at a time per target. */
const MAX_SCRAPES_IN_FLIGHT = 4;

const OPERATIONAL_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/health/live',
  '/health/ready',
  '/metrics',
]);

/**
 * A Fastify instance with the platform's contract: every response carries X-Request-Id, every
 * request ends in exactly one log line, every error goes through one handler that logs 5xx with
 * their stack and an errorId, and answers with a sanitised body that never holds internals.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const renderError = options.renderError ?? renderProblem;
  const traces = new WeakMap<IncomingMessage, Trace>();
  const app = Fastify({
    loggerInstance: options.logger,
    // Fastify's two lines per request give way to ours: one line, with the business context.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // The request's span starts with its logger, before any hook: every line of the request carries its
    // trace and span ids (the caller's trace when it sent a traceparent), the departure's line too.
    childLoggerFactory: (logger, bindings, childOptions, rawRequest) => {
      const raw = rawRequest as IncomingMessage;
      const trace = startTrace(raw.method ?? 'HTTP', {
        kind: SpanKind.SERVER,
        carrier: raw.headers,
        attributes: () => ({
          'http.request.method': raw.method ?? '_OTHER',
          'url.path': raw.url?.split('?')[0] ?? '',
        }),
        // Probes and scrapes come every second from every balancer and scraper: a trace each would
        // bury the checkouts' (their lines still name their ids).
        record: !isOperationalRoute(raw.url ?? ''),
      });
      traces.set(raw, trace);
      return logger.child({ ...bindings, ...traceFields(trace.span) }, childOptions);
    },
    bodyLimit: options.bodyLimit,
    ...(options.querystringParser ? { routerOptions: { querystringParser: options.querystringParser } } : {}),
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 72_000,
    http: {
      headersTimeout: Math.min(options.headersTimeoutMs ?? 5000, options.requestTimeoutMs ?? 10_000),
      // How often Node looks for requests past those times (its default, 30 s, lets a slow client linger).
      connectionsCheckingInterval: 500,
      // Node answers a request without Host itself, with an empty body: the onRequest hook answers it instead.
      requireHostHeader: false,
    },
    // Fastify's own 503 while closing has neither our body nor Retry-After; the drain hook answers instead.
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false } },
    // A request the HTTP parser refuses, or one that never arrived in time, is answered in the contract too.
    clientErrorHandler: (error, socket) => {
      // A reset connection has nobody left to answer.
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (!socket.writable) return void socket.destroy();
      // Ended, not destroyed: destroying a socket whose client is still sending resets it, and a reset can
      // throw away the answer before the client reads it. What it sends meanwhile is not read.
      const refusal = clientError(error);
      // A body cut off by the client's FIN is its departure (499), whether or not it reads this answer.
      if ((error as NodeJS.ErrnoException).code !== 'HPE_INVALID_EOF_STATE') noteRefusal(socket, refusal);
      socket.end(rawProblem(refusal, renderError));
      setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
    },
    // A URL the router cannot even read is answered in the contract too, not with Fastify's own body.
    frameworkErrors: (error, request, reply) => {
      const refusal =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError(PlatformErrors.URL_TOO_LONG)
          : new AppError(PlatformErrors.INVALID_URL);
      reply.header('x-request-id', request.id);
      endRequestSpan(traces.get(request.raw), request.method, undefined, refusal.status);
      logEvent(request.log, 'info', 'request_completed', {
        endpoint: 'unmatched',
        statusCode: refusal.status,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        error: refusal.code,
      });
      return sendError(reply, refusal, undefined, renderError);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON in, JSON out: a body sent as text is refused with 415, not parsed into a string and then
  // refused as a body of the wrong shape.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('logContext', null as unknown as RequestContext);
  // The rest of the request runs in its trace: the calls it makes to other services carry it.
  app.addHook('onRequest', (request, _reply, done) => {
    const trace = traces.get(request.raw);
    if (trace) runInTrace(trace, done);
    else done();
  });
  app.addHook('onRequest', async (request, reply) => {
    request.logContext = {};
    reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
    // RFC 9112 section 3.2: a request of HTTP/1.1 or later without Host is refused.
    const { httpVersionMajor: major, httpVersionMinor: minor } = request.raw;
    if ((major > 1 || (major === 1 && minor >= 1)) && !request.headers.host) {
      throw new AppError(PlatformErrors.MALFORMED_REQUEST, { detail: 'The request has no Host header.' });
    }
    if (options.isDraining?.() && !isOperationalRoute(request.url)) {
      reply.header('connection', 'close');
      throw new AppError(PlatformErrors.SHUTTING_DOWN, { retryAfterSeconds: 1 });
    }
  });

  const refusalSample = sampleEvery(REFUSAL_LINE_INTERVAL_MS);
  // Keyed by route and status: a handful of keys, each its own sampler.
  const probeSamples = new Map<string, ReturnType<typeof sampleEvery>>();
  const probeSample = (key: string) => {
    let sample = probeSamples.get(key);
    if (!sample) {
      sample = sampleEvery(PROBE_LINE_INTERVAL_MS);
      probeSamples.set(key, sample);
    }
    return sample();
  };
  const completed = new WeakSet<FastifyRequest>();
  /** The one request line and the one count of a request, however it ended. */
  const completeRequest = (
    request: FastifyRequest,
    reply: FastifyReply,
    statusCode: number,
    context: RequestContext,
  ) => {
    if (completed.has(request)) return;
    completed.add(request);
    const route = request.routeOptions.url;
    endRequestSpan(traces.get(request.raw), request.method, route, statusCode);
    options.metrics.recordRequest(
      request.method,
      route,
      statusCode,
      reply.elapsedTime / 1000,
      // Two values only: behind a trusted proxy `protocol` is whatever X-Forwarded-Proto said.
      request.protocol === 'https' ? 'https' : 'http',
    );
    let sampled: { refusalsNotLogged: number } | { probesNotLogged: number } | undefined;
    if (REFUSALS.has(String(context.error))) {
      const { log, skipped } = refusalSample();
      if (!log) return;
      sampled = { refusalsNotLogged: skipped };
    } else if (route !== undefined && isOperationalRoute(route)) {
      const { log, skipped } = probeSample(`${request.method} ${route} ${statusCode}`);
      if (!log) return;
      if (skipped > 0) sampled = { probesNotLogged: skipped };
    }
    logEvent(request.log, 'info', 'request_completed', {
      endpoint: endpointOf(request),
      statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      ...context,
      ...sampled,
    });
  };
  app.addHook('onResponse', async (request, reply) => {
    completeRequest(request, reply, reply.statusCode, request.logContext);
  });
  // A response whose connection closes before it is written never finishes, so onResponse never runs:
  // a client that left (mid-body, or while its request ran) gets its line and its count here, as 499
  // (nginx's "client closed request"), or 408 when its body was cut off by the request timeout.
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      if (!leftBeforeAnswer(reply)) return;
      const departure = departureOf(request);
      completeRequest(request, reply, departure.status, { ...request.logContext, error: departure.code });
    });
    done();
  });

  app.setErrorHandler(errorHandler(renderError, options.onServerError));

  if (options.metricsRoute !== false) {
    // Never shed, so that overload can be watched; but an exposition is tens of KB to build and send,
    // so past a few at once (a scraper needs one) a scrape is refused at once, as a shed request is.
    let scrapesInFlight = 0;
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      if (scrapesInFlight >= MAX_SCRAPES_IN_FLIGHT) {
        throw new AppError(PlatformErrors.SERVER_OVERLOADED, {
          retryAfterSeconds: 1,
          detail: `At most ${MAX_SCRAPES_IN_FLIGHT} scrapes of the metrics at once.`,
        });
      }
      scrapesInFlight++;
      reply.raw.once('close', () => {
        scrapesInFlight--;
      });
      reply
        .type(options.metrics.contentType)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff');
      return options.metrics.scrape();
    });
  }

  app.setNotFoundHandler(async (_request, reply) => {
    return sendError(reply, new AppError(PlatformErrors.ROUTE_NOT_FOUND), undefined, renderError);
  });

  // What Node would answer itself, outside the contract: an expectation it does not know (417 with no body;
  // RFC 9110 lets a server ignore it, and the request is served as if it had none), and CONNECT (the
  // socket closed without a word; this is no proxy).
  app.server.on('checkExpectation', (request, response) => app.server.emit('request', request, response));
  app.server.on('connect', (_request, socket) => {
    socket.end(rawProblem(new AppError(PlatformErrors.ROUTE_NOT_FOUND), renderError));
  });

  return app as unknown as HttpServer;
}
