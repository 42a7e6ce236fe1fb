import type { FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { AppError } from '../platform/errors/AppError.ts';
import { PlatformErrors } from '../platform/errors/codes.ts';

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

/** A preHandler that sets `request.userId` from a valid bearer token, or answers 401 UNAUTHENTICATED. */
export function bearerAuth(secret: string): Authenticate {
  const key = new TextEncoder().encode(secret);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    if (!token) throw new AppError(PlatformErrors.UNAUTHENTICATED, { detail: 'No bearer token was sent.' });
    try {
      const { payload } = await jwtVerify(token, key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [ALGORITHM],
      });
      if (!payload.sub) throw new Error('token has no subject');
      request.userId = payload.sub;
      request.logContext.userId = payload.sub;
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw new AppError(PlatformErrors.UNAUTHENTICATED, {
        detail: expired ? 'The bearer token has expired.' : 'The bearer token is not valid.',
      });
    }
  };
}
