import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from './auth/guard.ts';

/** What the web hardening needs to know. */
export interface WebSecurityOptions {
  auth: AuthContext;
  /** Served over HTTPS: adds HSTS and `upgrade-insecure-requests`. */
  tls: boolean;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** `Sec-Fetch-Site` values of a request the console itself made, or that a person typed. */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);
/** HSTS max-age: one year, the usual value (RFC 6797 leaves it to the site; OWASP suggests ≥ 1 year). */
const HSTS_MAX_AGE_S = 31_536_000;

/** Why a state-changing request looks cross-site, or undefined when it does not. */
export function crossSiteReason(req: FastifyRequest): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && !OWN_FETCH_SITES.has(site)) return `Sec-Fetch-Site: ${site}`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const own = `${req.protocol}://${req.host}`.toLowerCase();
  if (origin.toLowerCase() !== own) return `Origin ${origin} is not ${own}`;
  return undefined;
}

/**
 * Refuses a POST/PUT/PATCH/DELETE whose `Origin` is not this server's own origin, or whose
 * `Sec-Fetch-Site` says another site made it, with 403 RS_ERR_ORIGIN before anything else
 * runs. SameSite=Strict alone is not enough: a page on another port of the same host is the
 * same *site*, so its forms carry the cookie (that is how a page could log an operator out).
 * Requests with neither header (curl, scripts with a bearer token) pass: a browser always
 * sends Origin on a cross-origin POST. Register it before the auth guard so it answers first.
 */
export function installOriginCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!STATE_CHANGING.has(req.method)) return;
    const why = crossSiteReason(req);
    if (!why) return;
    req.log.warn({ code: 'RS_ERR_ORIGIN', url: req.url, why }, 'cross-site request refused');
    return reply
      .code(403)
      .send({ statusCode: 403, code: 'RS_ERR_ORIGIN', error: 'Forbidden', message: `cross-site request refused (${why})` });
  });
}

/**
 * Registers the header and rate-limit hardening on the root instance, before any route
 * (docs/security-web.md):
 * - @fastify/helmet: a CSP the console works under (it has no inline script or style), with
 *   `frame-ancestors 'none'`, X-Frame-Options DENY, nosniff, and HSTS only over TLS;
 * - @fastify/rate-limit, inactive unless a route sets `config.rateLimit` (only POST /api/login
 *   does); a refusal answers 429 RS_ERR_AUTH_THROTTLED with Retry-After and is audited,
 *   aggregated per address and minute.
 */
export async function installWebSecurity(app: FastifyInstance, opts: WebSecurityOptions): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Over plain HTTP this would make browsers ask for https:// URLs nobody serves.
        ...(opts.tls ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: opts.tls ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: false } : false,
  });
  await app.register(fastifyRateLimit, {
    global: false,
    onExceeded: (req) => {
      opts.auth.auditRefusal(req, { action: 'login', target: null, code: 'RS_ERR_AUTH_THROTTLED', refused: 'address rate limit' });
    },
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      code: 'RS_ERR_AUTH_THROTTLED',
      name: 'Too Many Requests',
      message: `too many login attempts from this address; retry in ${context.after}`,
    }),
  });
}
