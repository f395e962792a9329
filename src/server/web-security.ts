import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { AuthContext } from './auth/guard.ts';

/** What the web hardening needs to know. */
export interface WebSecurityOptions {
  auth: AuthContext;
}

/**
 * Registers the web hardening on the root instance, before any route (docs/security-web.md):
 * @fastify/rate-limit, inactive unless a route sets `config.rateLimit` (only POST /api/login
 * does); a refusal answers 429 RS_ERR_AUTH_THROTTLED with Retry-After and is audited,
 * aggregated per address and minute.
 */
export async function installWebSecurity(app: FastifyInstance, opts: WebSecurityOptions): Promise<void> {
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
