import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import { AppError } from '../platform/errors/AppError.ts';
import { bearerAuth, bearerTokenOf, MAX_USER_ID_LENGTH, signToken } from './auth.ts';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const DAY = 24 * 3600;
const authenticate = bearerAuth(SECRET, { maxTtlSeconds: 30 * DAY });
const now = () => Math.floor(Date.now() / 1000);

/** A correctly signed token holding exactly these claims (whatever their types). */
function signed(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims as never)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

const valid = (overrides: Record<string, unknown> = {}) =>
  signed({
    iss: 'steadfast',
    aud: 'steadfast-checkout',
    sub: 'usr_1',
    iat: now(),
    exp: now() + 3600,
    ...overrides,
  });

/** What the preHandler makes of an Authorization header: the user id, or the 401's detail. */
async function outcome(authorization: string | undefined): Promise<{ userId: string } | { refused: string }> {
  const request = { headers: { authorization }, logContext: {} } as unknown as FastifyRequest;
  try {
    await authenticate(request);
    return { userId: request.userId };
  } catch (error) {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'UNAUTHENTICATED');
    return { refused: String(error.detail) };
  }
}

const refusal = (result: Awaited<ReturnType<typeof outcome>>) => ('refused' in result ? result.refused : '');

describe('bearerAuth', () => {
  test('a token minted by signToken is accepted, the user is its subject', async () => {
    assert.deepEqual(await outcome(`Bearer ${await signToken(SECRET, 'usr_1', '1h')}`), { userId: 'usr_1' });
    assert.deepEqual(await outcome(`Bearer ${await signToken(SECRET, 'usr_1', '30d')}`), { userId: 'usr_1' });
  });

  test('the scheme is case-insensitive (RFC 9110 §11.1)', async () => {
    const token = await valid();
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      assert.deepEqual(await outcome(`${scheme} ${token}`), { userId: 'usr_1' }, scheme);
    }
  });

  test('anything but one bearer token is no bearer token', async () => {
    const token = await valid();
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      token,
      `Basic ${token}`,
      `Bearer ${token} ${token}`,
      `Bearer\t${token}`,
      `Bearertoken${token}`,
    ]) {
      assert.deepEqual(await outcome(header), { refused: 'No bearer token was sent.' }, String(header));
    }
  });

  test('a token without exp is refused though correctly signed; without iat, exp - now still bounds it', async () => {
    assert.deepEqual(await outcome(`Bearer ${await valid({ exp: undefined })}`), {
      refused: 'The bearer token has no "exp" claim.',
    });
    assert.deepEqual(await outcome(`Bearer ${await valid({ iat: undefined })}`), { userId: 'usr_1' });
    const forever = await valid({ iat: undefined, exp: now() + 100 * 365 * DAY });
    assert.match(refusal(await outcome(`Bearer ${forever}`)), /lives longer than/);
  });

  test('a lifetime past the maximum is refused: exp - iat, and exp - now', async () => {
    const tooLong = /lives longer than the 2592000 seconds/;
    const year = await valid({ exp: now() + 365 * DAY });
    assert.match(refusal(await outcome(`Bearer ${year}`)), tooLong);
    // Issued a while ago, so exp - now is within the bound but exp - iat is not.
    const stretched = await valid({ iat: now() - 10 * DAY, exp: now() + 25 * DAY });
    assert.match(refusal(await outcome(`Bearer ${stretched}`)), tooLong);
    const longest = await valid({ exp: now() + 30 * DAY });
    assert.deepEqual(await outcome(`Bearer ${longest}`), { userId: 'usr_1' });
    // signToken with a lifetime past the bound makes a token the service refuses.
    const minted = await signToken(SECRET, 'usr_1', '31d');
    assert.match(refusal(await outcome(`Bearer ${minted}`)), tooLong);
  });

  test('expired, not yet valid, issued in the future: refused as jose does, each with its reason', async () => {
    assert.deepEqual(await outcome(`Bearer ${await valid({ exp: now() - 10 })}`), {
      refused: 'The bearer token has expired.',
    });
    assert.deepEqual(await outcome(`Bearer ${await valid({ nbf: now() + 60 })}`), {
      refused: 'The bearer token is not valid yet.',
    });
    assert.deepEqual(await outcome(`Bearer ${await valid({ iat: now() + 60 })}`), {
      refused: 'The bearer token was issued in the future.',
    });
    assert.deepEqual(await outcome(`Bearer ${await valid({ nbf: now() - 60 })}`), { userId: 'usr_1' });
    // A minting clock a little ahead of ours (or a token a moment past its exp) is within tolerance.
    for (const skewed of [{ iat: now() + 2 }, { nbf: now() + 2 }, { exp: now() - 2 }]) {
      assert.deepEqual(
        await outcome(`Bearer ${await valid(skewed)}`),
        { userId: 'usr_1' },
        JSON.stringify(skewed),
      );
    }
  });

  test('claims of the wrong type are refused, never a 500', async () => {
    const claimInvalid = (claim: string) => `The bearer token's "${claim}" claim is not valid.`;
    for (const [overrides, detail] of [
      [{ exp: String(now() + 3600) }, claimInvalid('exp')],
      [{ exp: null }, claimInvalid('exp')],
      [{ iat: 'yesterday' }, claimInvalid('iat')],
      [{ iat: [now()] }, claimInvalid('iat')],
      [{ nbf: {} }, claimInvalid('nbf')],
      [{ exp: 1e308 }, undefined],
      [{ aud: ['other'] }, claimInvalid('aud')],
      [{ iss: 'someone-else' }, claimInvalid('iss')],
    ] as const) {
      const result = await outcome(`Bearer ${await valid(overrides)}`);
      assert.ok('refused' in result, `${JSON.stringify(overrides)} refused`);
      if (detail) assert.equal(result.refused, detail, JSON.stringify(overrides));
    }
  });

  test('a subject the service could not store as a user id is refused', async () => {
    const detail = `The bearer token's subject (sub) must be a user id: 1 to ${MAX_USER_ID_LENGTH} characters, no control characters.`;
    for (const sub of [
      'usr\u0000nul',
      'usr\u0007bell',
      'usr\nnewline',
      'usr\u001b[2Jterminal',
      'usr\u007fdel',
      'usr\u0085c1',
      'usr\u009bc1',
      'usr\ud800lone',
      'usr\udc00lone',
      '',
      'u'.repeat(MAX_USER_ID_LENGTH + 1),
      42,
      true,
      ['usr_1'],
      { id: 'usr_1' },
      null,
    ]) {
      assert.deepEqual(
        await outcome(`Bearer ${await valid({ sub })}`),
        { refused: detail },
        JSON.stringify(sub),
      );
    }
    assert.deepEqual(await outcome(`Bearer ${await valid({ sub: undefined })}`), {
      refused: 'The bearer token has no "sub" claim.',
    });
  });

  test('a subject of any storable Unicode, up to the bound, is accepted', async () => {
    for (const sub of ['usr_ünïcødé', 'usr_😀', 'u'.repeat(MAX_USER_ID_LENGTH), "o'brien; DROP TABLE"]) {
      assert.deepEqual(await outcome(`Bearer ${await valid({ sub })}`), { userId: sub });
    }
  });

  test('a wrong signature, another algorithm, alg none: refused', async () => {
    const other = await new SignJWT({ sub: 'usr_1', iss: 'steadfast', aud: 'steadfast-checkout' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-thirty-two-chars'));
    const hs512 = await new SignJWT({ sub: 'usr_1', iss: 'steadfast', aud: 'steadfast-checkout' })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${encode({ alg: 'none' })}.${encode({ sub: 'usr_1', exp: now() + 60, iat: now() })}.`;
    for (const token of [other, hs512, none, 'not.a.token']) {
      assert.deepEqual(await outcome(`Bearer ${token}`), { refused: 'The bearer token is not valid.' });
    }
  });
});

test('bearerTokenOf reads the token of one Bearer credential', () => {
  assert.equal(bearerTokenOf('Bearer abc.def-_~+/='), 'abc.def-_~+/=');
  assert.equal(bearerTokenOf('bearer   abc  '), 'abc');
  assert.equal(bearerTokenOf('Bearer a=b'), undefined, 'padding only at the end (token68)');
  assert.equal(bearerTokenOf('Bearer a\u0000b'), undefined);
});
