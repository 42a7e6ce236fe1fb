import { createHmac } from 'node:crypto';
import fc from 'fast-check';

/**
 * Generators of what an adversary sends, not what the author of a route had in mind: text over the whole
 * code point range, numbers at and past the limits of the types that store them, correctly signed tokens
 * with claims of every odd type, and header values HTTP clients refuse to write. Each comes with the
 * cases that broke something once listed by name, and random ones around them.
 */

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));

/** Characters that break naive handling, by what they break. */
export const HOSTILE_CHARACTERS = {
  /** PostgreSQL's text cannot hold it; `\u0000` is refused by jsonb. */
  nul: ['\u0000'],
  /** C0 controls and DEL: terminal escapes in a log, line breaks in a header. */
  c0: [...range(0x01, 0x1f), '\u007f'],
  /** C1 controls: arrive as latin1 bytes in a header; U+009B is a terminal's CSI. */
  c1: range(0x80, 0x9f),
  /** Unpaired surrogates: UTF-8 cannot encode them, jsonb refuses their escapes. */
  loneSurrogates: ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d'],
  /** Noncharacters: valid to store, often mishandled by decoders. */
  nonCharacters: ['\ufffe', '\uffff', '\ufdd0', '\u{1fffe}', '\u{10ffff}'],
  /** Bidirectional controls: text that reads differently from how it is stored. */
  bidi: ['\u200e', '\u200f', '\u061c', ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)],
  /** Invisible characters: two ids that look the same and are not. */
  zeroWidth: ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad'],
  /** Combining marks, stacked: one grapheme of many code points. */
  combining: ['\u0301', '\u0336', '\u20dd', '\u0489', '\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301'],
  /** Line and paragraph separators (`.` of a regular expression does not match them) and odd spaces. */
  separators: ['\u2028', '\u2029', '\u0085', '\u00a0', '\u3000', '\u1680'],
  /** Astral code points: two UTF-16 code units, which a cut by `slice` splits. */
  astral: ['😀', '𝕏', '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', '🇫🇷', '\u{10000}'],
  /** Letters whose case or normal form has another length. */
  shapeShifters: ['ß', 'İ', 'ﬀ', '\u212a', '\u2126', 'ｔｏｋ', '\ufffd'],
} as const;

const EVERY_HOSTILE = Object.values(HOSTILE_CHARACTERS).flat();

/**
 * One character of text an adversary writes: mostly printable ASCII (so that the rest lands inside words,
 * where it does harm), the rest from every class above or anywhere in Unicode.
 */
export const hostileCharacter: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 4, arbitrary: fc.constantFrom(...EVERY_HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);

/**
 * Lengths where limits sit: of PostgreSQL's btree index rows (~2,700 bytes), of the schemas (40, 64, 128,
 * 255, 500), and of a cut for a message (64).
 */
export const BOUNDARY_LENGTHS = [
  40, 41, 63, 64, 65, 127, 128, 129, 254, 255, 256, 499, 500, 501, 2800,
] as const;

/**
 * Strings at a boundary length: of one character repeated, or of ASCII ending in an astral character that
 * straddles the boundary, or of random characters (which do not compress: a long repeated string can
 * fit an index a random one of its length does not).
 */
export const boundaryString: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...BOUNDARY_LENGTHS),
    fc.constantFrom('a', 'é', '😀', 'straddle', 'random'),
    fc.integer(),
  )
  .map(([length, fill, seed]) => {
    if (fill === 'straddle') return `${'a'.repeat(length - 1)}😀`;
    if (fill === 'random') {
      let state = seed >>> 0 || 1;
      return Array.from({ length }, () => {
        state = (state * 1103515245 + 12345) >>> 0;
        return String.fromCharCode(0x21 + (state % 94));
      }).join('');
    }
    return fill.repeat(fill === '😀' ? Math.ceil(length / 2) : length);
  });

/**
 * Payloads with a history. None of them names a library, a file path or SQL (the leak check would read an
 * echo of them as a leak): what they test is how they are stored and matched, not what they say.
 */
export const NAMED_PAYLOADS = [
  '',
  ' ',
  '%00',
  '\\u0000',
  '%ED%A0%80',
  "' OR '1'='1",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection payload, sent as it is written
  '${7*7}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'NaN',
  'pm_card_visa\u0000',
  'pm_card_visa ',
  ' pm_card_visa',
  'TOK_VISA',
  'pm_card_visa\u200b',
  'ｔｏｋ＿ｖｉｓａ',
  'pm_card_visa\ud800',
  'usr_demo\u202e',
] as const;

/** Any string an adversary sends: random hostile text, boundary lengths, or a named payload. */
export function hostileString(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 80;
  return fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: hostileCharacter, maxLength }) },
    { weight: 1, arbitrary: boundaryString },
    { weight: 2, arbitrary: fc.constantFrom(...NAMED_PAYLOADS) },
  );
}

/** A string that certainly holds something PostgreSQL cannot store or a log must not carry, somewhere. */
export const unstorableString: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
    fc.constantFrom(
      ...HOSTILE_CHARACTERS.nul,
      ...HOSTILE_CHARACTERS.c0,
      ...HOSTILE_CHARACTERS.c1,
      ...HOSTILE_CHARACTERS.loneSurrogates,
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
  )
  .map(([before, bad, after]) => `${before}${bad}${after}`);

const INT4_MAX = 2 ** 31 - 1;

/** Integers at and past the limits of int4, int8, the schemas and JavaScript's exact integers. */
export const EDGE_INTEGERS = [
  0,
  -0,
  1,
  -1,
  999,
  1000,
  1001,
  10_000,
  10_001,
  86_400,
  86_401,
  1_000_000,
  1_000_001,
  99_999_999,
  100_000_000,
  INT4_MAX,
  INT4_MAX + 1,
  -INT4_MAX - 1,
  -INT4_MAX - 2,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  2 ** 63,
  2 ** 64,
] as const;

/** Doubles that are not integers, or are integers only in name. */
export const EDGE_DOUBLES = [
  0.5,
  1.5,
  1e-7,
  5e-324,
  1.0000000000000002,
  0.1 + 0.2,
  1e21,
  1e308,
  -1e308,
] as const;

/**
 * Number texts as they appear in JSON (or do not: some are not valid JSON numbers, which is the point):
 * written into a body's text, since JSON.stringify would never produce them.
 */
export const NUMBER_TEXTS = [
  '1e999',
  '-1e999',
  '1e-999',
  '1E3',
  '1.0',
  '1000.0000000000001',
  '1.000000000000000000001',
  '-0',
  '-0.0',
  '00',
  '01',
  '+1',
  '.5',
  '5.',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  '1_000',
  '2147483648',
  '9223372036854775808',
  '123456789012345678901234567890',
] as const;

/** Strings that look like numbers to someone. */
export const NUMBER_LIKE_STRINGS = [
  '1',
  '-0',
  '1e3',
  ' 1',
  '1 ',
  '١',
  '𝟏',
  '0x1',
  '1,000',
  'NaN',
  'Infinity',
] as const;

/** A number at an edge: a listed one, a random integer or double, or a number-like string instead. */
export const edgeNumber: fc.Arbitrary<number | string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_INTEGERS, ...EDGE_DOUBLES) },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 2000 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(...NUMBER_LIKE_STRINGS) },
);

/**
 * A body's JSON text with one member written by hand first: a number text JSON.stringify cannot write,
 * and the key a second time when the body has it too (which of the two counts is the parser's choice).
 */
export function withRawMember(body: Record<string, unknown>, key: string, rawValue: string): string {
  const rest = JSON.stringify(body).slice(1);
  return `{${JSON.stringify(key)}:${rawValue}${rest === '}' ? '' : ','}${rest}`;
}

/** JSON values of any type and depth, strings and numbers among them hostile. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString({ maxLength: 40 }),
    edgeNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString({ maxLength: 12 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/**
 * Units of products added to one cart, one add at a time: quantities at the per-add limit and past it,
 * many adds of one product (its line grows past what the inventory takes in one reservation), and many
 * products, so that quantity × price sums pass a charge's limit and int4.
 */
export function cartPlan(skus: readonly string[]): fc.Arbitrary<{ sku: string; quantity: unknown }[]> {
  const add = fc.record({
    sku: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...skus) },
      { weight: 1, arbitrary: hostileString() },
    ),
    quantity: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(1, 999, 1000) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 1000 }) },
      { weight: 1, arbitrary: edgeNumber },
    ),
  });
  return fc.oneof(
    fc.array(add, { minLength: 1, maxLength: 12 }),
    // One product, as many times as it takes a line past 10,000 units and the total past 2^31 cents.
    fc
      .tuple(fc.constantFrom(...skus), fc.integer({ min: 2, max: 120 }))
      .map(([sku, adds]) => Array.from({ length: adds }, () => ({ sku, quantity: 1000 }))),
    // Every product at the per-add limit, twice over.
    fc.constant([...skus, ...skus].map((sku) => ({ sku, quantity: 1000 }))),
  );
}

/** An HS256 JWS over any payload text and header, as a client holding the secret could sign it. */
export function signHs256(secret: string, payload: unknown, header: unknown = { alg: 'HS256' }): string {
  const encode = (part: unknown) =>
    Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** What a token's claims are compared with. */
export interface TokenTarget {
  issuer: string;
  audience: string;
  /** Seconds since the epoch, when the claims are made. */
  now: number;
  /** The longest lifetime the service accepts. */
  maxTtlSeconds: number;
}

const oddTypes = fc.oneof(
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

/**
 * Claims of a token: each one most often valid (so that the token gets past the signature and the other
 * checks, and the odd one is what the service meets), otherwise of an odd value or type, huge, or absent.
 */
export function hostileClaims(
  target: TokenTarget,
  subject: fc.Arbitrary<string>,
): fc.Arbitrary<Record<string, unknown>> {
  const { now, maxTtlSeconds } = target;
  const valid = <T>(value: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: hostile });
  return fc.record(
    {
      sub: valid(
        subject,
        fc.oneof(
          hostileString({ maxLength: 200 }),
          boundaryString,
          oddTypes,
          fc.constant('x'.repeat(6000)),
          fc.integer({ min: 1, max: 10 ** 6 }),
        ),
      ),
      iss: valid(
        fc.constant(target.issuer),
        fc.oneof(oddTypes, fc.constantFrom('', `${target.issuer}\u0000`, 'STEADFAST', [target.issuer])),
      ),
      aud: valid(
        fc.constantFrom(target.audience, [target.audience], ['other', target.audience]),
        fc.oneof(oddTypes, fc.constantFrom('', 'other', [target.audience, 1], [[target.audience]])),
      ),
      iat: valid(
        fc.constant(now - 5),
        fc.oneof(
          fc.constantFrom(
            0,
            -1,
            now + 3600,
            now - maxTtlSeconds - 10,
            1e308,
            -1e308,
            2 ** 53,
            now + 0.5,
            `${now}`,
          ),
          oddTypes,
        ),
      ),
      exp: valid(
        fc.constant(now + 3600),
        fc.oneof(
          fc.constantFrom(
            0,
            now - 1,
            now + maxTtlSeconds + 60,
            1e308,
            2 ** 53,
            now + 3600.5,
            `${now + 3600}`,
          ),
          oddTypes,
        ),
      ),
      nbf: fc.oneof(fc.constantFrom(now - 5, now + 3600, 1e308, -1e308, `${now}`), oddTypes),
      jti: fc.oneof(hostileString(), oddTypes),
    },
    { requiredKeys: ['sub', 'iss', 'aud', 'iat', 'exp'] },
  );
}

/** A protected header: HS256 mostly, with parameters a verifier must refuse or ignore. */
export const hostileJoseHeader: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom({ alg: 'HS256' }, { alg: 'HS256', typ: 'JWT' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { alg: 'HS256', crit: ['exp'] },
      { alg: 'HS256', b64: false, crit: ['b64'] },
      { alg: 'hs256' },
      { alg: 'HS384' },
      { alg: 'none' },
      { alg: 'HS256', kid: '../../../dev/null' },
      { alg: 'HS256', jku: 'http://127.0.0.1:1/keys' },
      { alg: 'HS256', typ: ['JWT'] },
      { alg: ['HS256'] },
      [],
      'HS256',
    ),
  },
);

/**
 * The payload's text: the claims as JSON mostly, else with a claim written twice (which one a parser keeps
 * is its choice), a polluting key, or not an object at all.
 */
export function payloadText(claims: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: claims.map((c) => JSON.stringify(c)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          claims,
          fc.constantFrom('"sub":"usr_demo"', '"sub":1', '"__proto__":{"sub":"usr_demo"}', '"exp":null'),
        )
        .map(([c, member]) => `{${member},${JSON.stringify(c).slice(1)}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('[]', 'null', '"usr_demo"', '1', '{', '\ufeff{}', '{"sub":"a"}garbage'),
    },
  );
}

/**
 * A header value an HTTP client library will write (visible ASCII, spaces, tabs inside, and latin1 bytes
 * 0x80-0xFF, which the server reads back as U+0080-U+00FF: the C1 controls among them).
 */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.oneof(
        fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
        fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)),
        fc.constant('\t'),
      ),
      minLength: 1,
      maxLength: 80,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', '\t', 'a'.repeat(255), 'a'.repeat(256), 'a'.repeat(9000)),
  },
);

/** traceparent values: valid, all-zero ids, the wrong case, a future version, extra fields, truncated. */
export const traceparentValue: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[0-9a-f]{32}$/),
      fc.stringMatching(/^[0-9a-f]{16}$/),
      fc.constantFrom('00', '01', 'ff'),
    )
    .map(([trace, span, flags]) => `00-${trace}-${span}-${flags}`),
  fc.constantFrom(
    `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`,
    `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`,
    `00-${'A'.repeat(32)}-${'B'.repeat(16)}-01`,
    `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    `01-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra`,
    `00-${'a'.repeat(31)}-${'b'.repeat(16)}-01`,
    '00--',
  ),
  headerValue,
);

/** Content types a client may claim for a JSON body, rightly or not. */
export const contentTypeValue: fc.Arbitrary<string | undefined> = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json;charset="latin1"',
  'APPLICATION/JSON',
  ' application/json',
  'application/json, text/plain',
  'application/problem+json',
  'application/vnd.api+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '*/*',
  'application/*',
  'garbage',
  '',
  undefined,
);

/**
 * Percent-encodes text as a client may send it in a URL, lone surrogates included: each as the three bytes
 * of its code point, which `encodeURIComponent` refuses to write and no UTF-8 decoder accepts.
 */
export function percentEncode(text: string): string {
  return Array.from(text, (char) => {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0xd800 || code > 0xdfff) return encodeURIComponent(char);
    return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
      .map((byte) => `%${byte.toString(16).toUpperCase()}`)
      .join('');
  }).join('');
}

/**
 * A path segment: hostile text percent-encoded, or raw encodings a decoder must refuse or resolve (an
 * encoded NUL, a dot segment, an invalid or overlong sequence, an encoded slash).
 */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileString({ maxLength: 40 }).map(percentEncode) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '%00',
      'a%00b',
      '.',
      '..',
      '%2e',
      '%2e%2e',
      '.%2e',
      '%2e%2e%2f',
      '..%2F..%2F',
      '%2F',
      '%5C',
      '%ff',
      '%C0%AE',
      '%E0%A4%A',
      '%',
      '%zz',
      '%ED%A0%80',
      '%EF%BF%BE',
      '%F4%90%80%80',
      '%1B%5B2J',
      '%C2%85',
      '~',
      'a'.repeat(101),
      'a'.repeat(3000),
    ),
  },
);

/** What a raw request is made of, beside its bytes: for the failure message, and to judge the answer. */
export interface RawRequest {
  method: string;
  target: string;
  bytes: string;
}

const rawByte = fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code));

/** A header value as bytes: any byte but CR and LF, or one of the shapes HTTP forbids. */
const rawHeaderValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({ unit: rawByte.filter((b) => b !== '\r' && b !== '\n'), maxLength: 60 }),
  },
  { weight: 2, arbitrary: headerValue },
  { weight: 1, arbitrary: fc.constantFrom('a\r\n folded', 'a\rb', 'a\nb', '\u0000', 'a'.repeat(20_000)) },
);

const rawHeaderName = fc.constantFrom(
  'idempotency-key',
  'Idempotency-Key',
  'x-request-id',
  'traceparent',
  'authorization',
  'content-type',
  'cookie',
  'x-forwarded-for',
  'connection',
  'upgrade',
  'bad name',
  'x\u00e9',
  'x\u0000',
  '',
);

/**
 * A request written byte by byte: any method (lower case, unknown, CONNECT), origin, absolute or asterisk
 * form, any version, with Host absent, empty or twice, an Expect, header values with control bytes, and
 * framings HTTP forbids (Content-Length with Transfer-Encoding, two lengths, a broken chunk).
 */
export function rawRequest(options: {
  host: string;
  paths: fc.Arbitrary<string>;
  authorizations: readonly (string | undefined)[];
  bodies: fc.Arbitrary<string | undefined>;
}): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      method: fc.constantFrom(
        'GET',
        'POST',
        'POST',
        'PUT',
        'DELETE',
        'HEAD',
        'OPTIONS',
        'get',
        'PROPFIND',
        'QUERY',
        'TRACE',
        'CONNECT',
        'G\u00c9T',
      ),
      path: options.paths,
      form: fc.constantFrom('origin', 'origin', 'origin', 'origin', 'absolute', 'asterisk'),
      version: fc.constantFrom(
        'HTTP/1.1',
        'HTTP/1.1',
        'HTTP/1.1',
        'HTTP/1.1',
        'HTTP/1.0',
        'HTTP/2.0',
        'HTTP/1.2',
        'http/1.1',
      ),
      host: fc.constantFrom('present', 'present', 'present', 'present', 'absent', 'twice', 'empty'),
      expect: fc.constantFrom(undefined, undefined, undefined, undefined, '100-continue', 'foo'),
      authorization: fc.constantFrom(...options.authorizations),
      headers: fc.array(fc.tuple(rawHeaderName, rawHeaderValue), { maxLength: 4 }),
      framing: fc.constantFrom(
        'length',
        'length',
        'length',
        'chunked',
        'length+chunked',
        'two lengths',
        'bad chunk',
        'none',
      ),
      body: options.bodies,
      close: fc.boolean(),
    })
    .map((r) => {
      const target =
        r.form === 'asterisk' ? '*' : r.form === 'absolute' ? `http://${options.host}${r.path}` : r.path;
      const lines = [`${r.method} ${target} ${r.version}`];
      if (r.host === 'present') lines.push(`Host: ${options.host}`);
      if (r.host === 'twice') lines.push(`Host: ${options.host}`, 'Host: other.example');
      if (r.host === 'empty') lines.push('Host:');
      if (r.expect) lines.push(`Expect: ${r.expect}`);
      if (r.authorization) lines.push(`Authorization: ${r.authorization}`);
      for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
      if (r.close) lines.push('Connection: close');
      // The body as UTF-8 bytes, written one byte a character.
      const body = r.body === undefined ? '' : Buffer.from(r.body, 'utf8').toString('latin1');
      let payload = '';
      if (r.body !== undefined && r.framing !== 'none') {
        lines.push('Content-Type: application/json');
        const length = `Content-Length: ${body.length}`;
        const chunked = 'Transfer-Encoding: chunked';
        const chunk = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
        const framings: Record<string, [headers: string[], payload: string]> = {
          length: [[length], body],
          chunked: [[chunked], chunk],
          'length+chunked': [[length, chunked], chunk],
          'two lengths': [[length, `Content-Length: ${body.length + 1}`], body],
          'bad chunk': [[chunked], `zz\r\n${body}\r\n0\r\n\r\n`],
        };
        const [headers, framed] = framings[r.framing] ?? [[], ''];
        lines.push(...headers);
        payload = framed;
      }
      return { method: r.method, target, bytes: `${lines.join('\r\n')}\r\n\r\n${payload}` };
    });
}
