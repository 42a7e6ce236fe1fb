import Type, { type Static } from 'typebox';
import { EdgeReport } from './edgeSchema.ts';

/**
 * The JSON that `steadfast triage --format json` prints: one schema, versioned. A field is only ever
 * added in a minor change; a change of meaning or a removal raises `schemaVersion`.
 */
export const SCHEMA_VERSION = 2;

export const Category = Type.Union(
  [
    Type.Literal('bad_deployment'),
    Type.Literal('unhandled_exception'),
    Type.Literal('misconfiguration'),
    Type.Literal('resource_exhaustion'),
    Type.Literal('database_failure'),
    Type.Literal('dependency_failure'),
    Type.Literal('overload'),
  ],
  { description: "The article's categories of a 5xx." },
);
export type Category = Static<typeof Category>;

const Time = Type.String({ format: 'date-time' });
const Count = Type.Integer({ minimum: 0 });

/** Why a source was not read, or not wholly: one code each, documented in docs/triage.md. */
export const SourceReason = Type.Union([
  Type.Literal('no_answer'),
  Type.Literal('http_status'),
  Type.Literal('not_a_scrape'),
  Type.Literal('not_a_health_report'),
  Type.Literal('too_large'),
  Type.Literal('not_a_file'),
  Type.Literal('dangling_link'),
  Type.Literal('link_loop'),
  Type.Literal('not_found'),
  Type.Literal('permission'),
  Type.Literal('corrupt'),
  Type.Literal('read_error'),
  Type.Literal('decompressed_limit'),
  Type.Literal('timeout'),
]);
export type SourceReason = Static<typeof SourceReason>;

const SourceRead = Type.Object(
  {
    kind: Type.Union([Type.Literal('logs'), Type.Literal('metrics'), Type.Literal('health')]),
    source: Type.String({ description: 'The file, directory entry, URL, or `stdin`' }),
    state: Type.Union(
      [
        Type.Literal('read'),
        Type.Literal('partial'),
        Type.Literal('unreachable'),
        Type.Literal('unreadable'),
        Type.Literal('skipped'),
      ],
      {
        description:
          'read: whole; partial: cut short (see reason), what was read counts; unreachable: a URL that did not answer; unreadable: there, but not readable as what it should be; skipped: not a regular file, a link to nothing or a loop, or not reached before the timeout',
      },
    ),
    reason: Type.Optional(SourceReason),
    detail: Type.Optional(Type.String()),
    lines: Type.Optional(Type.Integer({ minimum: 0, description: 'Log lines seen, passed over included' })),
    passedOver: Type.Optional(Type.Integer({ minimum: 0, description: 'Log lines that could not be used' })),
    samples: Type.Optional(Type.Integer({ minimum: 0, description: 'Metric samples read' })),
  },
  { additionalProperties: false },
);
export type SourceRead = Static<typeof SourceRead>;

/** Why a log line was passed over. */
const LineReason = Type.Union([
  Type.Literal('blank'),
  Type.Literal('not_json'),
  Type.Literal('too_long'),
  Type.Literal('too_deep'),
  Type.Literal('bad_time'),
  Type.Literal('bad_field'),
]);
export type LineReason = Static<typeof LineReason>;
export const LINE_REASONS = LineReason.anyOf.map((literal) => literal.const) as LineReason[];

const PassedOver = Type.Object(
  {
    total: Count,
    reasons: Type.Object(
      Object.fromEntries(LINE_REASONS.map((reason) => [reason, Count])) as Record<LineReason, typeof Count>,
      { additionalProperties: false },
    ),
    samples: Type.Array(
      Type.Object(
        {
          at: Type.String({ description: '`<log file>:<line>`' }),
          reason: LineReason,
          detail: Type.String(),
        },
        { additionalProperties: false },
      ),
      { description: 'The first few lines passed over, and why' },
    ),
  },
  {
    additionalProperties: false,
    description:
      'Log lines that could not be used: blank, not JSON, longer than the line limit, nested too deep, without a time in range, or with a field triage reads of the wrong type or out of range',
  },
);
export type PassedOverReport = Static<typeof PassedOver>;

const Evidence = Type.Object(
  {
    at: Type.String({ description: '`<log file>:<line>`, or the metrics or health source' }),
    time: Type.Optional(Time),
    line: Type.String({ description: 'The line, shortened to the fields that matter' }),
  },
  { additionalProperties: false },
);
export type Evidence = Static<typeof Evidence>;

const Finding = Type.Object(
  {
    kind: Type.String({
      description: 'database, dependency, pool_saturated, overload, breaker_open, exception, ...',
    }),
    subject: Type.Optional(Type.String({ description: 'The dependency or resource concerned' })),
    summary: Type.String(),
    first: Type.Optional(Time),
    last: Type.Optional(Time),
    count: Type.Integer({ minimum: 0 }),
    evidence: Type.Array(Evidence),
  },
  { additionalProperties: false },
);
export type Finding = Static<typeof Finding>;

const Cause = Type.Object(
  {
    category: Category,
    ...Finding.properties,
  },
  { additionalProperties: false },
);
export type Cause = Static<typeof Cause>;

const ExceptionGroupReport = Type.Object(
  {
    errorClass: Type.String(),
    frame: Type.String({ description: 'Top in-project stack frame, `src/...ts:line`' }),
    message: Type.String(),
    count: Type.Integer({ minimum: 1 }),
    first: Time,
    last: Time,
    endpoints: Type.Array(Type.String()),
    versions: Type.Array(Type.String({ description: '`<version>+<commit>`' })),
    statusCodes: Type.Array(Type.Integer()),
    sampleErrorIds: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type ExceptionGroupReport = Static<typeof ExceptionGroupReport>;

const TemplateChangeReport = Type.Object(
  {
    template: Type.String({
      description: 'The message with its variable parts (numbers, ids, quoted values, paths) as `<*>`',
    }),
    of: Type.Union([Type.Literal('message'), Type.Literal('answer')], {
      description:
        'message: the words of lines at warn and above; answer: 5xx answers by service, status, error and route',
    }),
    change: Type.Union([Type.Literal('new'), Type.Literal('elevated')], {
      description:
        'new: not seen in the window before the first failure; elevated: its rate rose at least 5-fold',
    }),
    before: Count,
    after: Count,
    ratio: Type.Optional(Type.Number({ description: 'Rate after the first failure over the rate before' })),
    first: Time,
    last: Time,
    sample: Evidence,
  },
  { additionalProperties: false },
);
export type TemplateChangeReport = Static<typeof TemplateChangeReport>;

const AbruptStop = Type.Object(
  {
    instance: Type.String({
      description:
        "The log file's name without its day or rotation (`checkout-1`), or the service's on standard input",
    }),
    service: Type.String(),
    lastLine: Evidence,
    restartedAt: Type.Optional(Time),
    silentForSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'Not restarted: how long the other instances logged after its last line',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'An instance whose lines stopped with no shutdown logged (killed, or its machine gone): restarted, or silent while the others went on',
  },
);
export type AbruptStopReport = Static<typeof AbruptStop>;

const Deploy = Type.Object(
  {
    service: Type.String(),
    time: Time,
    version: Type.Optional(Type.String()),
    commit: Type.Optional(Type.String()),
    previousVersion: Type.Optional(Type.String()),
    previousCommit: Type.Optional(Type.String()),
    configHash: Type.Optional(
      Type.Object(
        { previous: Type.String(), current: Type.String() },
        {
          additionalProperties: false,
          description:
            "The service_started lines' configHash before and after, when it changed; with the same version and commit, the marker is a configuration change, not a deploy of new code",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Deploy = Static<typeof Deploy>;

const ResourceReport = Type.Object(
  {
    name: Type.String(),
    source: Type.String(),
    current: Type.Number(),
    max: Type.Optional(Type.Number()),
    unit: Type.String(),
    exhausted: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const TriageReport = Type.Object(
  {
    schemaVersion: Type.Literal(SCHEMA_VERSION),
    generatedAt: Time,
    status: Type.Union([Type.Literal('healthy'), Type.Literal('problem'), Type.Literal('unknown')], {
      description:
        'unknown: too little was read to tell (no requests in the logs and no metrics or health read, no live source answering, or the timeout hit first); never healthy without evidence',
    }),
    headline: Type.String({ description: 'The verdict in one line, naming the sources not read' }),
    cause: Type.Union([Cause, Type.Null()], { description: 'The root cause; null when none was found' }),
    symptoms: Type.Array(Finding, { description: 'What the cause explains: listed, not chased' }),
    when: Type.Object(
      {
        firstFailure: Type.Optional(Time),
        lastFailure: Type.Optional(Time),
        failures: Type.Integer({ minimum: 0, description: '5xx answers in the logs read' }),
        requests: Type.Integer({ minimum: 0 }),
        shape: Type.Array(
          Type.Union([
            Type.Literal('after_deploy'),
            Type.Literal('one_endpoint'),
            Type.Literal('rising_with_load'),
            Type.Literal('since_start'),
            Type.Literal('sudden'),
          ]),
        ),
        endpoints: Type.Record(Type.String(), Type.Integer(), { description: '5xx by endpoint' }),
        deploy: Type.Optional(Deploy),
        evidence: Type.Array(Evidence),
      },
      { additionalProperties: false },
    ),
    exceptionGroups: Type.Array(ExceptionGroupReport, { description: 'Most frequent first' }),
    abruptStops: Type.Optional(
      Type.Array(AbruptStop, { description: 'Oldest first; present when there is one' }),
    ),
    edge: Type.Optional(EdgeReport),
    templates: Type.Object(
      {
        changes: Type.Array(TemplateChangeReport, {
          description:
            'Log templates (warn and above, 5xx answers) new or elevated since the first failure, most frequent first',
        }),
        clusters: Count,
        dropped: Type.Integer({
          minimum: 0,
          description: 'Lines no template could take: the caps were reached',
        }),
      },
      { additionalProperties: false },
    ),
    resources: Type.Array(ResourceReport),
    advice: Type.Union([
      Type.Object(
        {
          fix: Type.String({ description: "The article's fix for the category" }),
          runbook: Type.String({ description: 'The runbook section to follow' }),
          alerts: Type.Array(
            Type.Object(
              {
                name: Type.String(),
                state: Type.Union([Type.Literal('firing'), Type.Literal('expected')], {
                  description:
                    'firing: its condition holds in the metrics read; expected: it should fire on this',
                }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    read: Type.Object(
      {
        logFiles: Type.Array(Type.String()),
        logLines: Type.Integer({ minimum: 0 }),
        metrics: Type.Array(Type.String()),
        health: Type.Array(Type.String()),
        unreachable: Type.Array(Type.String({ description: 'A metrics or health URL that did not answer' })),
        sources: Type.Array(SourceRead, { description: 'Every source, what became of it' }),
        passedOver: PassedOver,
        timedOut: Type.Boolean({ description: 'The run stopped at its --timeout before reading everything' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'Steadfast triage report, schema version 2' },
);
export type TriageReport = Static<typeof TriageReport>;
