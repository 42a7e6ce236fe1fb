import Type, { type Static } from 'typebox';

const Count = Type.Integer({ minimum: 0 });
const Counts = Type.Record(Type.String(), Count);

/** The report's `edge`: what the load balancer's log said, joined to the instances' by request id. */
export const EdgeReport = Type.Object(
  {
    balancerLines: Count,
    requests: Type.Integer({
      minimum: 0,
      description: "Lines of proxied traffic (HAProxy's stats page left out)",
    }),
    failures: Type.Integer({ minimum: 0, description: '5xx the balancer gave, whoever made them' }),
    madeByBalancer: Type.Integer({
      minimum: 0,
      description:
        '5xx HAProxy made itself (its termination state, or no server), not passed on from an instance',
    }),
    joined: Type.Integer({
      minimum: 0,
      description: "Balancer lines joined to an instance's line by request id",
    }),
    statusesAgree: Count,
    statusesDiffer: Type.Record(Type.String(), Count, {
      description: '`<balancer status>/<instance status>` of joined lines that differ, counted',
    }),
    failuresByKind: Type.Record(
      Type.String({
        description:
          'no_server, shed_at_edge, queue_timeout, server_timeout, connection_refused, server_aborted, client_gone, balancer_other',
      }),
      Type.Object(
        {
          count: Count,
          first: Type.String({ format: 'date-time' }),
          last: Type.String({ format: 'date-time' }),
          states: Type.Record(Type.String(), Count, {
            description: 'Termination states (2 characters), counted',
          }),
          instances: Type.Object(
            { answered: Count, abandoned: Count, failed: Count, unseen: Count, unknown: Count },
            {
              additionalProperties: false,
              description:
                'What the instance did: answered below 500 (late), abandoned (logged 499 or 408: the balancer left while it worked, and its work went on), failed too, unseen (its log read, no line of that id), unknown (its log not read, or past the join)',
            },
          ),
          servers: Counts,
        },
        { additionalProperties: false },
      ),
    ),
    servers: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          requests: Count,
          failures: Count,
          unseen: Type.Integer({
            minimum: 0,
            description: '5xx of HAProxy with no line in the instance log',
          }),
          instanceLog: Type.Optional(Type.String({ description: 'The instance log joined to this server' })),
        },
        { additionalProperties: false },
      ),
    ),
    budgetMs: Type.Optional(
      Type.Number({ description: "The service's budget, from checkoutBudgetMs in its service_started line" }),
    ),
    timeoutServerFromTimersMs: Type.Optional(
      Type.Number({ description: 'How long HAProxy waited on a server before its timeout, from its timers' }),
    ),
    config: Type.Optional(
      Type.Object(
        {
          file: Type.String(),
          state: Type.Union([Type.Literal('read'), Type.Literal('unreadable')]),
          detail: Type.Optional(Type.String()),
          timeoutServerMs: Type.Optional(Type.Number()),
          line: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        {
          additionalProperties: false,
          description: "The HAProxy configuration read for its 'timeout server'",
        },
      ),
    ),
    joinHorizonReached: Type.Boolean({
      description: 'Lines waited longer than the join holds: some 5xx could not be told unseen or answered',
    }),
    zoneOffsetMinutes: Type.Integer({
      description: "HAProxy's local time zone (it logs no zone), from the joined lines, else triage's own",
    }),
  },
  { additionalProperties: false },
);
export type EdgeReport = Static<typeof EdgeReport>;
