import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AccountError } from '../auth/account-error.ts';
import type { AuthContext } from '../auth/guard.ts';
import { assertPasswordAcceptable, DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from '../auth/password-policy.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { addUser } from '../auth/provision.ts';
import {
  AddUserBodySchema,
  AddUserResponseSchema,
  ChangePasswordBodySchema,
  OkResponseSchema,
  UserParamsSchema,
  UserResponseSchema,
  UsersResponseSchema,
} from '../auth/schemas.ts';
import { ErrorResponseSchema } from '../schemas.ts';

/** Options of the user routes. */
export interface UserRoutesOptions {
  auth: AuthContext;
  /** Rules for chosen passwords; default 12 characters and the common-password list. */
  policy?: PasswordPolicy;
}

/**
 * Wrong current passwords one session may send to `POST /api/me/password` before it is ended:
 * someone holding a stolen or unattended session must not get an unthrottled password oracle.
 */
export const MAX_WRONG_CURRENT = 5;

const refusals = { 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

/**
 * Account management. Admin only (`users.manage`): `GET /api/users`, `POST /api/users`,
 * `POST /api/users/:name/disable|enable`, `DELETE /api/users/:name`. Any logged-in user:
 * `POST /api/me/password` (their own; the current password is required). Every change is
 * audited with the acting user; refusals (last enabled admin, weak password, wrong current
 * password) are audited too, as failed attempts.
 */
export const userRoutes: FastifyPluginAsyncZod<UserRoutesOptions> = async (app, { auth, policy = DEFAULT_PASSWORD_POLICY }) => {
  /** Wrong current-password attempts per session token (in memory: a restart forgives, which is harmless). */
  const wrongCurrent = new Map<string, number>();
  /** Runs `change`, auditing success or the AccountError that refused it (which then answers the request). */
  const audited = <T>(req: Parameters<AuthContext['audit']>[0], action: string, target: string, change: () => T): T => {
    try {
      const result = change();
      auth.audit(req, { action, target, ok: true });
      return result;
    } catch (e) {
      if (e instanceof AccountError) auth.audit(req, { action, target, ok: false, detail: { refused: e.message, code: e.code } });
      throw e;
    }
  };

  app.get(
    '/users',
    {
      config: { permission: 'users.manage', action: 'user.list' },
      schema: {
        description: 'Every user with its state and live session count (admin).',
        response: { 200: UsersResponseSchema, ...refusals },
      },
    },
    async () => {
      const sessions = auth.store.sessionCounts(auth.now());
      return { users: auth.store.listUsers().map((u) => ({ ...u, sessions: sessions.get(u.name) ?? 0 })) };
    },
  );

  app.post(
    '/users',
    {
      config: { permission: 'users.manage', action: 'user.add' },
      schema: {
        description: 'Create a user (admin). Without a password one is generated and returned once.',
        body: AddUserBodySchema,
        response: { 200: AddUserResponseSchema, 400: ErrorResponseSchema, 422: ErrorResponseSchema, ...refusals },
      },
    },
    async (req) => {
      const { name, role, password, replace } = req.body;
      if (!replace && auth.store.getUser(name)) throw new AccountError('RS_ERR_CONFLICT', 409, `user '${name}' already exists`);
      try {
        const added = await addUser(auth.store, {
          ...{ name, role, replace, now: auth.now(), audit: false, policy },
          ...(password !== undefined ? { password } : {}),
        });
        auth.audit(req, { action: 'user.add', target: name, ok: true, detail: { role, replace } });
        return { user: added.user, ...(added.generatedPassword ? { generated_password: added.generatedPassword } : {}) };
      } catch (e) {
        if (e instanceof AccountError)
          auth.audit(req, { action: 'user.add', target: name, ok: false, detail: { refused: e.message, code: e.code } });
        throw e;
      }
    },
  );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(
      `/users/:name/${verb}`,
      {
        config: { permission: 'users.manage', action: `user.${verb}` },
        schema: {
          description: disabled
            ? 'Disable a user (admin): it cannot log in and its sessions end. The last enabled admin cannot be disabled.'
            : 'Enable a disabled user again (admin).',
          params: UserParamsSchema,
          response: { 200: UserResponseSchema, 400: ErrorResponseSchema, ...refusals },
        },
      },
      async (req) => ({ user: audited(req, `user.${verb}`, req.params.name, () => auth.store.setUserDisabled(req.params.name, disabled)) }),
    );
  }

  app.delete(
    '/users/:name',
    {
      config: { permission: 'users.manage', action: 'user.delete' },
      schema: {
        description: 'Delete a user and its sessions (admin); its audit entries stay. The last enabled admin cannot be deleted.',
        params: UserParamsSchema,
        response: { 200: OkResponseSchema, 400: ErrorResponseSchema, ...refusals },
      },
    },
    async (req) => {
      audited(req, 'user.delete', req.params.name, () => auth.store.deleteUser(req.params.name));
      return { ok: true as const };
    },
  );

  app.post(
    '/me/password',
    {
      config: { permission: 'authenticated', action: 'user.password' },
      schema: {
        description:
          'Change your own password: the current one is required; every other session of yours ends. Required first when a one-time password is in force.',
        body: ChangePasswordBodySchema,
        response: { 200: UserResponseSchema, 400: ErrorResponseSchema, 422: ErrorResponseSchema, ...refusals },
      },
    },
    async (req) => {
      const name = (req.user as NonNullable<typeof req.user>).name;
      const token = req.sessionToken ?? '';
      const stored = auth.store.getUser(name);
      const refuse = (e: AccountError): never => {
        auth.audit(req, { action: 'user.password', target: name, ok: false, detail: { refused: e.message, code: e.code } });
        throw e;
      };
      // Counted before the await, so parallel guesses cannot all pass the check (one event-loop turn).
      const tries = wrongCurrent.get(token) ?? 0;
      if (tries >= MAX_WRONG_CURRENT) {
        // The count stays: requests that passed the guard before the session ended must not start over.
        auth.store.deleteSession(token);
        refuse(
          new AccountError('RS_ERR_AUTH_FAILED', 401, `the current password was wrong ${MAX_WRONG_CURRENT} times: this session has ended`),
        );
      }
      // Bounded: a flood of fresh sessions cannot grow the map without end (the oldest counts go first).
      if (wrongCurrent.size >= 10_000) wrongCurrent.delete(wrongCurrent.keys().next().value as string);
      wrongCurrent.set(token, tries + 1);
      if (!stored || !(await verifyPassword(req.body.current_password, stored.password_hash)))
        refuse(new AccountError('RS_ERR_AUTH_FAILED', 403, 'the current password is wrong'));
      wrongCurrent.delete(token);
      if (req.body.new_password === req.body.current_password)
        refuse(new AccountError('RS_ERR_PASSWORD_WEAK', 422, 'the new password must differ from the current one'));
      try {
        assertPasswordAcceptable(req.body.new_password, { userName: name, policy });
      } catch (e) {
        refuse(e as AccountError);
      }
      const hash = await hashPassword(req.body.new_password);
      auth.store.setPassword(name, hash, { ...(req.sessionToken ? { keepToken: req.sessionToken } : {}), mustChange: false });
      auth.audit(req, { action: 'user.password', target: name, ok: true });
      return { user: { ...(req.user as NonNullable<typeof req.user>), must_change_password: false } };
    },
  );
};
