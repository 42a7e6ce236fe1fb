/**
 * Failpoints: named places where a test may make the process die, to prove that a crash there loses
 * nothing. Inert unless STEADFAST_FAILPOINT names one, as `<name>:exit` (exit code 1 at once, no
 * cleanup) or `<name>:kill` (SIGKILL to itself). Several may be listed, comma-separated.
 */
const armed = new Map<string, 'exit' | 'kill'>();
for (const entry of (process.env.STEADFAST_FAILPOINT ?? '').split(',')) {
  const [name, action] = entry.trim().split(':');
  if (name && (action === 'exit' || action === 'kill')) armed.set(name, action);
}

export function failpoint(name: string): void {
  const action = armed.get(name);
  if (!action) return;
  process.stderr.write(`failpoint ${name}: ${action}\n`);
  if (action === 'kill') process.kill(process.pid, 'SIGKILL');
  process.exit(1);
}
