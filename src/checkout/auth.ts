import type { FastifyRequest } from 'fastify';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../platform/errors/AppError.ts';
import { PlatformErrors } from '../platform/errors/codes.ts';
import { isStorableText } from '../platform/http/storableText.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user: the token's subject, never a field of the body. */
    userId: string;
  }
}

const ISSUER = 'steadfast';
/** Tokens are for this service: one minted for another service of the same issuer is refused. */
const AUDIENCE = 'steadfast-checkout';
const ALGORITHM = 'HS256';
/** A user id is stored in carts, attempts and orders, and written to every log line of its requests. */
export const MAX_USER_ID_LENGTH = 128;
/** How far the clock of whoever minted a token may run ahead of ours (its iat and nbf), or behind (exp). */
const CLOCK_TOLERANCE_SECONDS = 5;

export async function signToken(secret: string, userId: string, ttl: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM })
    .setSubject(userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}

export type Authenticate = (request: FastifyRequest) => Promise<void>;

/**
 * The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive (RFC 9110
 * §11.1), and a token68 holds no space: anything else is no bearer token.
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return match?.[1];
}

const refused = (detail: string) => new AppError(PlatformErrors.UNAUTHENTICATED, { detail });

/**
 * A preHandler that sets `request.userId` from a valid bearer token, or answers 401 UNAUTHENTICATED.
 * Valid means signed with the secret (HS256 only), for this audience, with an `exp` no further ahead
 * than `maxTtlSeconds`, nor further from `iat` when it has one (a token that never expires, or lives for
 * a year, is refused even when correctly signed), and a subject the service can store as a user id.
 */
export function bearerAuth(secret: string, options: { maxTtlSeconds: number }): Authenticate {
  const key = new TextEncoder().encode(secret);
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerTokenOf(request.headers.authorization);
    if (!token) throw refused('No bearer token was sent.');
    const payload = await verified(token, key, options.maxTtlSeconds);
    request.userId = payload.sub;
    request.logContext.userId = payload.sub;
  };
}

async function verified(
  token: string,
  key: Uint8Array,
  maxTtlSeconds: number,
): Promise<JWTPayload & { sub: string; exp: number }> {
  let payload: JWTPayload;
  try {
    // jose checks that exp, iat and nbf are numbers when present, that exp is ahead and nbf is not, and
    // the algorithm, issuer and audience.
    ({ payload } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: [ALGORITHM],
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    throw refused(reasonOf(error));
  }
  const { sub, exp, iat } = payload as { sub: unknown; exp: number; iat?: number };
  const now = Date.now() / 1000;
  // iat is optional (RFC 7519); when present it bounds the lifetime too, and may not be ahead (as jose
  // checks it under maxTokenAge).
  if (iat !== undefined && iat > now + CLOCK_TOLERANCE_SECONDS) {
    throw refused('The bearer token was issued in the future.');
  }
  if (exp - now > maxTtlSeconds || (iat !== undefined && exp - iat > maxTtlSeconds)) {
    throw refused(`The bearer token lives longer than the ${maxTtlSeconds} seconds this service accepts.`);
  }
  if (
    typeof sub !== 'string' ||
    sub.length === 0 ||
    sub.length > MAX_USER_ID_LENGTH ||
    !isStorableText(sub)
  ) {
    throw refused(
      `The bearer token's subject (sub) must be a user id: 1 to ${MAX_USER_ID_LENGTH} characters, no control characters.`,
    );
  }
  return { ...payload, sub, exp };
}

/** What the client is told: which rule the token broke, never the token or its claims. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The bearer token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `The bearer token has no "${error.claim}" claim.`;
    if (error.reason === 'check_failed' && error.claim === 'nbf') return 'The bearer token is not valid yet.';
    return `The bearer token's "${error.claim}" claim is not valid.`;
  }
  return 'The bearer token is not valid.';
}
