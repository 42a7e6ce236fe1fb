/**
 * Errors are values with a stable code. Each code is declared once, with its HTTP status and the
 * message a client may read; the one error handler turns any AppError into a problem+json body.
 */
export interface ErrorDefinition {
  /** Stable machine-readable code, e.g. `CART_NOT_FOUND`. */
  readonly code: string;
  readonly status: number;
  /** Short, fixed summary of the problem type (RFC 9457 `title`). */
  readonly title: string;
  /** Default message safe to show a client. */
  readonly message: string;
  /** Answered with Retry-After: the same request may succeed later, and the client should try it again. */
  readonly retryable?: boolean;
}

type Definitions<T> = { readonly [K in keyof T & string]: ErrorDefinition & { readonly code: K } };

/** Declares a set of error codes; the key of each entry is its code. */
export function defineErrors<const T extends Record<string, Omit<ErrorDefinition, 'code'>>>(
  definitions: T,
): Definitions<T> {
  const result: Record<string, ErrorDefinition> = {};
  for (const [code, definition] of Object.entries(definitions)) {
    result[code] = Object.freeze({ code, ...definition });
  }
  return Object.freeze(result) as Definitions<T>;
}

export interface AppErrorOptions {
  /** Overrides the definition's client message. Never put internals here: it is sent to the client. */
  message?: string;
  /** More about this occurrence, safe for the client (RFC 9457 `detail`). */
  detail?: string;
  /** Extra members of the problem body, safe for the client (e.g. `fields`, `sku`). */
  extensions?: Record<string, unknown>;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly definition: ErrorDefinition;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;

  constructor(definition: ErrorDefinition, options: AppErrorOptions = {}) {
    super(options.message ?? definition.message, { cause: options.cause });
    this.name = 'AppError';
    this.definition = definition;
    this.detail = options.detail;
    this.extensions = options.extensions ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get code(): string {
    return this.definition.code;
  }

  get status(): number {
    return this.definition.status;
  }
}
