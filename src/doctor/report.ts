import Type, { type Static } from 'typebox';

/**
 * The JSON that `steadfast doctor --format json` prints: one schema, versioned as triage's is. A field
 * is only ever added in a minor change; a change of meaning or a removal raises `schemaVersion`.
 */
export const DOCTOR_SCHEMA_VERSION = 1;

const CheckName = Type.Union([
  Type.Literal('timeouts'),
  Type.Literal('keep_alive'),
  Type.Literal('connections'),
  Type.Literal('health_check'),
  Type.Literal('balancer'),
  Type.Literal('settings'),
]);

const Finding = Type.Object(
  {
    check: CheckName,
    code: Type.String({ description: 'Stable; each is explained in docs/operations.md section 7' }),
    summary: Type.String(),
    setting: Type.String({ description: 'The setting to change' }),
    file: Type.String({
      description: 'Where: the HAProxy file and line, or the environment and the file declaring it',
    }),
    current: Type.String(),
    fix: Type.String(),
  },
  { additionalProperties: false },
);

export const DoctorReport = Type.Object(
  {
    schemaVersion: Type.Literal(DOCTOR_SCHEMA_VERSION),
    generatedAt: Type.String({ format: 'date-time' }),
    status: Type.Union([Type.Literal('clean'), Type.Literal('findings')]),
    findings: Type.Array(Finding),
    checks: Type.Array(
      Type.Object(
        {
          check: CheckName,
          state: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('skipped')]),
          detail: Type.String({ description: 'What was compared; for a skipped check, what was missing' }),
        },
        { additionalProperties: false },
      ),
    ),
    read: Type.Array(
      Type.Object(
        {
          source: Type.Union([
            Type.Literal('haproxy_config'),
            Type.Literal('settings'),
            Type.Literal('postgres'),
            Type.Literal('stack'),
            Type.Literal('balancer'),
          ]),
          state: Type.Union([Type.Literal('read'), Type.Literal('unavailable')]),
          detail: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DoctorReport = Static<typeof DoctorReport>;
