import Type, { type Static } from 'typebox';

/**
 * The JSON that `steadfast triage --format json` prints: one schema, versioned. A field is only ever
 * added in a minor change; a change of meaning or a removal raises `schemaVersion`.
 */
export const SCHEMA_VERSION = 1;

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

const Deploy = Type.Object(
  {
    service: Type.String(),
    time: Time,
    version: Type.Optional(Type.String()),
    commit: Type.Optional(Type.String()),
    previousVersion: Type.Optional(Type.String()),
    previousCommit: Type.Optional(Type.String()),
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
    status: Type.Union([Type.Literal('healthy'), Type.Literal('problem')]),
    headline: Type.String({ description: 'The verdict in one line' }),
    cause: Type.Union([Cause, Type.Null()], { description: 'The root cause; null when healthy' }),
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
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'Steadfast triage report, schema version 1' },
);
export type TriageReport = Static<typeof TriageReport>;
