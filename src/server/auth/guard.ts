import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Refusal, RefusalAudit } from './refusal-audit.ts';
import { type Permission, roleAllows } from './roles.ts';
import type { AuditEntry, AuthStore, User } from './store.ts';

/** Name of the session cookie: HttpOnly, SameSite=Strict, Path=/. */
export const SESSION_COOKIE = 'rs_session';

/** What a route declares in its `config`: who may call it, and the action name the audit log uses. */
export interface RouteAccess {
  /** A permission, or `authenticated` for anything a logged-in user of any role may do (logout). */
  permission?: Permission | 'authenticated';
  /** Explicitly open to anyone (login). Mutating routes must set one of the two. */
  public?: boolean;
  /** Audit action name, e.g. `alarm.acknowledge`; defaults to the permission. */
  action?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyRequest {
    /** The logged-in user, from the session cookie or an `Authorization: Bearer` token; null when anonymous. */
    user: User | null;
    /** The presented session token, so logout can end exactly that session. */
    sessionToken: string | null;
  }
}

/** A mutating route as registered, for the role-by-route test and the docs. */
export interface GuardedRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

/** The pieces routes need: the store, a clock and an audit helper that fills in user and address. */
export interface AuthContext {
  store: AuthStore;
  now: () => number;
  /** Session lifetime, ms. */
  sessionTtlMs: number;
  /** A session with no authenticated request for this long ends (RS_ERR_SESSION_EXPIRED), ms. */
  sessionIdleMs: number;
  /** Every mutating route registered so far (filled by an onRoute hook). */
  routes: GuardedRoute[];
  audit(req: FastifyRequest, e: Pick<AuditEntry, 'action' | 'target' | 'ok'> & { detail?: Record<string, unknown> }): AuditEntry;
  /** Audits a refused anonymous request, aggregated per (action, code, address) and minute (refusal-audit.ts). */
  auditRefusal(req: FastifyRequest, r: Omit<Refusal, 'ip'>): void;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The session token from `Authorization: Bearer …` or the session cookie (the header wins). */
export function readToken(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || null;
  const cookie = req.headers.cookie;
  if (!cookie) return null;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim()) || null;
  }
  return null;
}

function refuse(
  reply: FastifyReply,
  status: 401 | 403,
  message: string,
  code = status === 401 ? 'RS_ERR_AUTH_REQUIRED' : 'RS_ERR_FORBIDDEN',
): FastifyReply {
  return reply.code(status).send({ statusCode: status, code, error: status === 401 ? 'Unauthorized' : 'Forbidden', message });
}

/**
 * Installs authentication on the root instance (not as an encapsulated plugin, so the hooks see
 * every route): resolves `req.user` on each request and enforces each route's `config.permission`
 * in `onRequest`, before the body is even parsed. Registering a POST/PUT/PATCH/DELETE route
 * that declares neither `permission` nor `public` throws at start-up, so no action can slip in
 * unguarded. Refusals are written to the audit log too.
 */
export function installAuth(
  app: FastifyInstance,
  opts: { store: AuthStore; now: () => number; sessionTtlMs?: number; sessionIdleMs?: number },
): AuthContext {
  const refusals = new RefusalAudit({ append: (e) => opts.store.appendAudit(e), now: opts.now });
  const flushTimer = setInterval(() => refusals.flush(), 10_000);
  flushTimer.unref();
  // preClose: the counts must reach the store before whoever owns it closes it.
  app.addHook('preClose', async () => {
    clearInterval(flushTimer);
    refusals.flush(true);
  });
  const ctx: AuthContext = {
    store: opts.store,
    now: opts.now,
    sessionTtlMs: opts.sessionTtlMs ?? 12 * 3600_000,
    sessionIdleMs: opts.sessionIdleMs ?? 30 * 60_000,
    routes: [],
    audit(req, e) {
      return opts.store.appendAudit({
        ts: opts.now(),
        user: req.user?.name ?? null,
        role: req.user?.role ?? null,
        action: e.action,
        target: e.target,
        ok: e.ok,
        detail: e.detail ?? {},
        ip: req.ip ?? null,
      });
    },
    auditRefusal(req, r) {
      refusals.record({ ...r, ip: req.ip ?? null });
    },
  };

  app.decorateRequest('user', null);
  app.decorateRequest('sessionToken', null);

  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    const access: RouteAccess = route.config ?? {};
    for (const method of methods) {
      if (!MUTATING.has(method)) continue;
      if (!access.permission && !access.public)
        throw new Error(`${method} ${route.url} declares neither config.permission nor config.public`);
      ctx.routes.push({ method, url: route.url, access });
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    const access: RouteAccess = req.routeOptions.config ?? {};
    const permission = access.permission;
    const token = readToken(req);
    // Only requests that need a login count as activity: the console's anonymous polling and
    // live stream carry the cookie too and must not keep an unattended session alive.
    const session = token
      ? opts.store.checkSession(token, opts.now(), { idleMs: ctx.sessionIdleMs, touch: Boolean(permission) })
      : undefined;
    if (token) {
      req.user = session?.user ?? null;
      req.sessionToken = req.user ? token : null;
    }
    if (!permission) return;
    const params = req.params as Record<string, string> | undefined;
    const target = params?.id ?? params?.name ?? null;
    const action = access.action ?? permission;
    if (!req.user) {
      const ended = session?.ended;
      const code =
        ended === 'idle' || ended === 'expired'
          ? 'RS_ERR_SESSION_EXPIRED'
          : ended === 'disabled'
            ? 'RS_ERR_USER_DISABLED'
            : 'RS_ERR_AUTH_REQUIRED';
      // Anonymous refusals are aggregated: a script can send thousands a second.
      ctx.auditRefusal(req, { action, target, code, refused: ended && ended !== 'unknown' ? `session ${ended}` : 'not logged in' });
      if (code === 'RS_ERR_SESSION_EXPIRED') return refuse(reply, 401, 'the session expired; log in again', code);
      if (code === 'RS_ERR_USER_DISABLED') return refuse(reply, 401, 'the user is disabled', code);
      return refuse(reply, 401, 'log in first (POST /api/login)');
    }
    if (req.user.must_change_password && permission !== 'authenticated') {
      ctx.audit(req, { action, target, ok: false, detail: { refused: 'one-time password not changed yet' } });
      return refuse(reply, 403, 'change your one-time password first (POST /api/me/password)', 'RS_ERR_PASSWORD_CHANGE_REQUIRED');
    }
    if (permission !== 'authenticated' && !roleAllows(req.user.role, permission)) {
      ctx.audit(req, { action, target, ok: false, detail: { refused: `role ${req.user.role} lacks ${permission}` } });
      return refuse(reply, 403, `role ${req.user.role} may not ${action}`);
    }
  });
  return ctx;
}
