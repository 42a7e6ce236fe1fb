import { AppError } from './AppError.ts';
import { PlatformErrors } from './codes.ts';

/**
 * Why a dependency could not serve a call. `timeout`, `server_error` and `connection_lost` mean the
 * request may have reached the dependency: its outcome is unknown and must be looked up, not guessed.
 */
export type UnavailableReason =
  | 'circuit_open'
  | 'saturated'
  | 'unreachable'
  | 'timeout'
  | 'server_error'
  | 'connection_lost';

const OUTCOME_UNKNOWN: ReadonlySet<UnavailableReason> = new Set([
  'timeout',
  'server_error',
  'connection_lost',
]);

/** A dependency (database, inventory, payment gateway) is down, slow, saturated or fenced off by its breaker. */
export class DependencyUnavailableError extends AppError {
  readonly dependency: string;
  readonly reason: UnavailableReason;

  constructor(
    dependency: string,
    reason: UnavailableReason,
    options: { retryAfterSeconds: number; cause?: unknown },
  ) {
    super(PlatformErrors.SERVICE_TEMPORARILY_UNAVAILABLE, options);
    this.name = 'DependencyUnavailableError';
    this.dependency = dependency;
    this.reason = reason;
  }

  /** True when the call may have taken effect at the dependency. */
  get outcomeUnknown(): boolean {
    return OUTCOME_UNKNOWN.has(this.reason);
  }
}
