import type { LogEvidence } from './LogEvidence.ts';
import { isUrl } from './liveSources.ts';
import type { Category, SourceRead, TriageReport } from './report.ts';

/** How a headline names each category of cause. */
const CATEGORY_NAMES: Record<Category, string> = {
  bad_deployment: 'bad deployment',
  unhandled_exception: 'unhandled exception',
  misconfiguration: 'misconfiguration',
  resource_exhaustion: 'resource exhaustion',
  database_failure: 'database failure',
  dependency_failure: 'dependency failure',
  overload: 'overload',
};

/** How many sources not read the headline names before it only counts the rest. */
const NAMED_IN_HEADLINE = 3;

/**
 * The verdict and its one line. A problem found is a problem, whatever could not be read; "healthy" needs
 * evidence of health: requests in the logs or a live answer, and (when live sources were asked) at least
 * one of them answering, since a stack that answers nothing may be down whatever its logs said before.
 * Too little to tell, or the timeout before everything was read, is `unknown`: never healthy.
 */
export function verdict(
  cause: { category: Category; summary: string } | undefined,
  logs: Pick<LogEvidence, 'failures' | 'requests'>,
  read: TriageReport['read'],
  first: number | undefined,
): { status: TriageReport['status']; headline: string } {
  const blind = blindSpots(read);
  if (cause) {
    const since = first !== undefined ? ` since ${new Date(first).toISOString()}` : '';
    const share = logs.failures ? ` (${logs.failures} 5xx of ${logs.requests} requests)` : '';
    return {
      status: 'problem',
      headline: `PROBLEM: ${CATEGORY_NAMES[cause.category]}: ${cause.summary}${since}${share}${blind}`,
    };
  }
  const logsGiven = read.sources.some((s) => s.kind === 'logs');
  const live = read.sources.filter((s) => s.kind !== 'logs');
  const liveRead = live.filter((s) => s.state === 'read');
  const asked = live.filter((s) => isUrl(s.source));
  // Something listens where a source answered at all, even with an error status or a page of HTML.
  const answered = asked.filter((s) => s.state !== 'unreachable' || s.reason === 'http_status');
  const seen = logs.requests
    ? `no 5xx in ${logs.requests} requests`
    : read.logLines
      ? 'no requests in the logs read'
      : logsGiven
        ? 'no log lines read'
        : 'no logs given';
  if (read.timedOut)
    return {
      status: 'unknown',
      headline: `UNKNOWN: timed out before everything was read (${seen} so far)${blind}`,
    };
  if (asked.length > 0 && answered.length === 0)
    return {
      status: 'unknown',
      headline: `UNKNOWN: ${asked.length === 1 ? 'the live source did not answer' : `none of the ${asked.length} live sources answered`}: the stack may be down${logsGiven ? ` (its logs: ${seen})` : ''}${blind}`,
    };
  if (logs.requests === 0 && liveRead.length === 0)
    return {
      status: 'unknown',
      headline: `UNKNOWN: no evidence: ${seen}, and no metrics or health read${blind}`,
    };
  const state = liveRead.length ? ', nothing exhausted, no breaker open' : '';
  return { status: 'healthy', headline: `HEALTHY: ${seen}${state}${blind}` };
}

/** The sources not read whole, named (the first few), and the log lines passed over, counted. */
function blindSpots(read: TriageReport['read']): string {
  const missed = read.sources.filter((s) => s.state !== 'read');
  const parts: string[] = [];
  if (missed.length) {
    const named = missed.slice(0, NAMED_IN_HEADLINE).map(describe);
    const more = missed.length > NAMED_IN_HEADLINE ? ` and ${missed.length - NAMED_IN_HEADLINE} more` : '';
    parts.push(`not read: ${named.join(', ')}${more}`);
  }
  const unusable = read.passedOver.total - read.passedOver.reasons.blank;
  if (unusable > 0) parts.push(`${unusable} log line(s) passed over`);
  return parts.length ? `; ${parts.join('; ')}` : '';
}

function describe(source: SourceRead): string {
  return `${source.source} (${source.state}${source.reason ? `: ${source.reason}` : ''})`;
}
