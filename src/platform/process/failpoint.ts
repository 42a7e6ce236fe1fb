/**
 * Failpoints: named places where a test may make the process die, or stall, to prove that a crash or
 * a pause there loses nothing. Inert unless STEADFAST_FAILPOINT names one, as `<name>:exit` (exit code
 * 1 at once, no cleanup), `<name>:kill` (SIGKILL to itself), `<name>:stall=<ms>` (the whole process
 * stops for that long, as under a long GC pause or a descheduled VM) or `<name>:throw` (a TypeError
 * thrown from the caller's line, as a bug there would: what triage's corpus records). Several may be
 * listed, comma-separated.
 */
type Action = { kind: 'exit' } | { kind: 'kill' } | { kind: 'throw' } | { kind: 'stall'; ms: number };

const armed = new Map<string, Action>();
for (const entry of (process.env.STEADFAST_FAILPOINT ?? '').split(',')) {
  const [name, action = ''] = entry.trim().split(':');
  const stall = /^stall=(\d+)$/.exec(action);
  if (!name) continue;
  if (action === 'exit' || action === 'kill' || action === 'throw') armed.set(name, { kind: action });
  else if (stall) armed.set(name, { kind: 'stall', ms: Number(stall[1]) });
}

export function failpoint(name: string): void {
  const action = armed.get(name);
  if (!action) return;
  if (action.kind === 'throw') {
    const bug = new TypeError(`Cannot read properties of undefined (reading '${name}')`);
    // The stack starts at the caller: the bug is placed on its line, not in this module.
    Error.captureStackTrace(bug, failpoint);
    throw bug;
  }
  process.stderr.write(`failpoint ${name}: ${action.kind}\n`);
  if (action.kind === 'stall') {
    // Blocks the event loop itself: no timer, no socket, no other request moves meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, action.ms);
    return;
  }
  if (action.kind === 'kill') process.kill(process.pid, 'SIGKILL');
  process.exit(1);
}
