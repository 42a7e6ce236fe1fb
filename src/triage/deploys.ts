import type { EvidenceLine, ServiceStart } from './LogEvidence.ts';
import type { Deploy } from './report.ts';

/** How long after a change a failure still "follows" it. */
const DEPLOY_WINDOW_MS = 30 * 60_000;
const CLOCK_SLACK_MS = 1000;

/** A change a service's `service_started` line marks: a new build, or the same build with other settings. */
export interface DeployMarker {
  marker: Deploy;
  evidence: EvidenceLine;
}

/**
 * Starts of a service whose build (version, commit) or configuration (configHash) differs from its
 * previous start, in time order. A restart with nothing changed marks nothing.
 */
export function deployMarkers(starts: ServiceStart[]): DeployMarker[] {
  const sorted = [...starts].sort((a, b) => a.time - b.time);
  const previous = new Map<string, ServiceStart>();
  const markers: DeployMarker[] = [];
  for (const start of sorted) {
    const before = previous.get(start.service);
    previous.set(start.service, start);
    if (!before) continue;
    const newBuild = before.version !== start.version || before.commit !== start.commit;
    // A start that did not log a hash (an older build) says nothing of its settings.
    const newConfig =
      before.configHash !== undefined &&
      start.configHash !== undefined &&
      before.configHash !== start.configHash;
    if (!newBuild && !newConfig) continue;
    markers.push({
      marker: {
        service: start.service,
        time: new Date(start.time).toISOString(),
        version: start.version,
        commit: start.commit,
        previousVersion: before.version,
        previousCommit: before.commit,
        ...(newConfig
          ? { configHash: { previous: before.configHash as string, current: start.configHash as string } }
          : {}),
      },
      evidence: start.evidence,
    });
  }
  return markers;
}

/** The latest change at most DEPLOY_WINDOW_MS before `time` (a second's clock skew allowed). */
export function deployBefore(markers: DeployMarker[], time: number): DeployMarker | undefined {
  return markers
    .filter((m) => {
      const at = Date.parse(m.marker.time);
      return at <= time + CLOCK_SLACK_MS && time - at <= DEPLOY_WINDOW_MS;
    })
    .at(-1);
}

/** True when the marker is the same build started with other settings: a configuration change. */
export function isConfigChange(deploy: Deploy): boolean {
  return (
    deploy.configHash !== undefined &&
    deploy.version === deploy.previousVersion &&
    deploy.commit === deploy.previousCommit
  );
}

/** The change in words: "the deploy of <build> at T" or "a configuration change of <service> at T". */
export function describeDeploy(deploy: Deploy): string {
  const build = (version: string | undefined, commit: string | undefined) =>
    `${version ?? '?'}+${commit ?? '?'}`;
  if (isConfigChange(deploy))
    return `a configuration change of ${deploy.service} at ${deploy.time} (configHash ${deploy.configHash?.previous} → ${deploy.configHash?.current}, same version ${build(deploy.version, deploy.commit)})`;
  const config = deploy.configHash
    ? `; configHash ${deploy.configHash.previous} → ${deploy.configHash.current}`
    : '';
  return `the deploy of ${deploy.service} ${build(deploy.version, deploy.commit)} (was ${build(deploy.previousVersion, deploy.previousCommit)}${config}) at ${deploy.time}`;
}
