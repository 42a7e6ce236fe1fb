import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Headers of every page an operator's browser loads, and of what the page loads: never framed by another
 * site (clickjacking), and a file is only ever what its Content-Type says (no MIME sniffing).
 */
export const PAGE_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
} as const;

/** A Content-Security-Policy header value from its directives. */
export function contentSecurityPolicy(directives: Record<string, readonly string[]>): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

/**
 * What the platform's pages may load: their own scripts, styles and data from their own origin, images
 * inlined as data: URLs, nothing inline that could run, no plugin, no form sent elsewhere, no frame.
 */
export const PAGE_POLICY = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
} as const;

/** A route hook that puts the page headers, and the page's policy, on an answer. */
export function securePage(policy: Record<string, readonly string[]> = PAGE_POLICY) {
  const csp = contentSecurityPolicy(policy);
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.headers({ ...PAGE_HEADERS, 'content-security-policy': csp });
  };
}
