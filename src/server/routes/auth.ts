import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { type AuthContext, SESSION_COOKIE } from '../auth/guard.ts';
import { CheckPool, LoginThrottle } from '../auth/login-throttle.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import {
  AuditQuerySchema,
  AuditResponseSchema,
  LoginBodySchema,
  LoginResponseSchema,
  MeResponseSchema,
  OkResponseSchema,
} from '../auth/schemas.ts';
import { ErrorResponseSchema } from '../schemas.ts';

/**
 * The coarse per-address limit on POST /api/login (@fastify/rate-limit), on top of the
 * per-(user, address) backoff: 30 a minute lets a few operators sharing a console PC mistype,
 * and stops one address spraying many user names (docs/security-web.md "Login throttling").
 */
export const LOGIN_RATE_LIMIT = { max: 30, timeWindow: 60_000 } as const;

function sessionCookie(req: FastifyRequest, token: string, maxAgeS: number): string {
  // Secure only over TLS: a station console on plain http would otherwise never get its cookie back.
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

function sendError(reply: FastifyReply, status: number, code: string, error: string, message: string) {
  return reply.code(status).send({ statusCode: status, code, error, message });
}

/**
 * `POST /api/login`, `POST /api/logout`, `GET /api/me`, `GET /api/audit` (admin, operator);
 * user management is in users.ts. Sessions are an HttpOnly SameSite=Strict cookie
 * (`rs_session`) or, for scripts that ask for it, the same token as a bearer header.
 */
export const authRoutes: FastifyPluginAsyncZod<{ auth: AuthContext; registry: Registry }> = async (app, { auth, registry }) => {
  const throttle = new LoginThrottle({ now: auth.now });
  const checks = new CheckPool({ registry });
  const refuseThrottled = (req: FastifyRequest, reply: FastifyReply, status: 429 | 503, retryAfterMs: number, why: string) => {
    auth.auditRefusal(req, { action: 'login', target: null, code: 'RS_ERR_AUTH_THROTTLED', refused: why });
    reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    const error = status === 429 ? 'Too Many Requests' : 'Service Unavailable';
    return sendError(reply, status, 'RS_ERR_AUTH_THROTTLED', error, `${why}; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  };
  // Verifying against a real hash when the user does not exist keeps the response time the same.
  const dummyHash = await hashPassword('not a real password');

  app.post(
    '/login',
    {
      config: { public: true, rateLimit: LOGIN_RATE_LIMIT },
      schema: {
        description: 'Log in; sets the session cookie. With `bearer: true` the token is also returned for scripts.',
        body: LoginBodySchema,
        response: {
          200: LoginResponseSchema,
          400: ErrorResponseSchema,
          401: ErrorResponseSchema,
          403: ErrorResponseSchema,
          429: ErrorResponseSchema,
          503: ErrorResponseSchema,
        },
      },
    },
    async (req, reply) => {
      // Reserved synchronously, before any await: parallel guesses cannot all pass the check.
      const slot = throttle.reserve(req.body.username, req.ip);
      if (!('release' in slot)) return refuseThrottled(req, reply, 429, slot.retryAfterMs, slot.reason);
      const stored = auth.store.getUser(req.body.username);
      let ok: boolean | undefined;
      try {
        ok = await checks.run(() => verifyPassword(req.body.password, stored?.password_hash ?? dummyHash));
      } catch (err) {
        slot.release('failed');
        throw err;
      }
      if (ok === undefined) {
        slot.release('ok');
        return refuseThrottled(req, reply, 503, 1000, 'too many logins are being checked');
      }
      if (!stored || !ok) {
        slot.release('failed');
        auth.audit(req, { action: 'login', target: req.body.username, ok: false, detail: { refused: 'bad user name or password' } });
        return sendError(reply, 401, 'RS_ERR_AUTH_FAILED', 'Unauthorized', 'bad user name or password');
      }
      slot.release('ok');
      const now = auth.now();
      // Only after the password matched, so a guesser cannot learn which accounts are disabled.
      if (stored.disabled) {
        auth.audit(req, { action: 'login', target: stored.name, ok: false, detail: { refused: 'user disabled' } });
        return sendError(reply, 403, 'RS_ERR_USER_DISABLED', 'Forbidden', `user '${stored.name}' is disabled`);
      }
      const expiresAt = now + auth.sessionTtlMs;
      const token = auth.store.createSession(stored.name, expiresAt, now);
      const { password_hash: _hash, ...user } = stored;
      req.user = user;
      auth.audit(req, { action: 'login', target: user.name, ok: true });
      reply.header('set-cookie', sessionCookie(req, token, Math.floor(auth.sessionTtlMs / 1000)));
      return { user, expires_at: expiresAt, ...(req.body.bearer ? { token } : {}) };
    },
  );

  app.post(
    '/logout',
    {
      config: { permission: 'authenticated', action: 'logout' },
      schema: { description: 'End this session and clear the cookie.', response: { 200: OkResponseSchema, 401: ErrorResponseSchema } },
    },
    async (req, reply) => {
      if (req.sessionToken) auth.store.deleteSession(req.sessionToken);
      auth.audit(req, { action: 'logout', target: req.user?.name ?? null, ok: true });
      reply.header('set-cookie', sessionCookie(req, '', 0));
      return { ok: true as const };
    },
  );

  app.get('/me', { schema: { description: 'Who is logged in (null when nobody).', response: { 200: MeResponseSchema } } }, async (req) => ({
    user: req.user,
  }));

  app.get(
    '/audit',
    {
      config: { permission: 'audit.read', action: 'audit.read' },
      schema: {
        description: 'The append-only audit log, newest first.',
        querystring: AuditQuerySchema,
        response: { 200: AuditResponseSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema },
      },
    },
    async (req) => ({ entries: auth.store.listAudit(req.query) }),
  );
};
