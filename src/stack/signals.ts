import { rollingRestart } from './rollingRestart.ts';
import type { StackFile, StackInfo } from './stackFile.ts';
import type { Supervisor } from './supervisor.ts';

/** How often the supervisor looks whether its parent is gone. */
const ORPHAN_CHECK_MS = 500;

/**
 * SIGINT, SIGTERM or SIGHUP stop the stack in order and end the supervisor with the stop's code; a second
 * one SIGKILLs what is left.
 */
export function stopOnSignals(supervisor: Supervisor, say: (message: string) => void): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (supervisor.stopping) {
      // As most supervisors do: asked twice, the user wants out now; nothing is left behind either way.
      say(`${signal} again: SIGKILL to everything still running`);
      supervisor.killNow();
      return;
    }
    say(`${signal}: stopping ${supervisor.stopOrder} (again: SIGKILL at once)`);
    void supervisor.stop().then((code) => process.exit(code));
  };
  // A closed terminal (SIGHUP) or a reader gone from the pipe must not end the stop half-way.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('SIGTERM', onSignal);
  // Whoever started it may go without a word: `npm start` passes SIGTERM to a shell that dies of it,
  // and dies of SIGHUP itself. Orphaned (a new parent), the stack stops as if told to.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphanWatch);
    // A stop already under way goes on as it was (its parent may leave while it waits).
    if (!supervisor.stopping) onSignal('SIGHUP');
  }, ORPHAN_CHECK_MS);
  orphanWatch.unref();
}

/**
 * SIGUSR2 (what `steadfast restart --rolling` sends) restarts the checkout instances one by one, once the
 * stack is up and while no stop or other rolling restart runs; stack.json tells how it went.
 */
export function rollingRestartOnSignal(
  stackFile: StackFile,
  supervisor: Supervisor,
  say: (message: string) => void,
): void {
  process.on('SIGUSR2', () => {
    const { info, processes } = stackFile;
    if (!info || !processes || supervisor.stopping || info.rollingRestart?.state === 'running') return;
    const run: NonNullable<StackInfo['rollingRestart']> = {
      startedAt: new Date().toISOString(),
      state: 'running',
    };
    info.rollingRestart = run;
    void stackFile
      .write()
      .then(() => rollingRestart(processes.checkouts, processes.balancerAdmin, say))
      .then(
        () => Object.assign(run, { state: 'done' }),
        (error: Error) => {
          say(`rolling restart failed: ${error.message}`);
          Object.assign(run, { state: 'failed', error: error.message });
        },
      )
      .then(() => {
        run.finishedAt = new Date().toISOString();
        return stackFile.write();
      });
  });
}
