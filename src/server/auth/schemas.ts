import { z } from 'zod';
import { RoleSchema } from './roles.ts';

/** HTTP schemas of the auth routes (login, me, users, audit). */

export const UserSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  created_at: z.number().int(),
  disabled: z.boolean(),
  /** A one-time password is in force: only `POST /api/me/password` and logout are allowed. */
  must_change_password: z.boolean(),
});

export const LoginBodySchema = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  /** Scripts set this to get the session token in the body and send it as `Authorization: Bearer`. */
  bearer: z.boolean().optional(),
});
export const LoginResponseSchema = z.object({
  user: UserSchema,
  expires_at: z.number().int(),
  /** Only when `bearer` was asked for; the console relies on the HttpOnly cookie instead. */
  token: z.string().optional(),
});

export const OkResponseSchema = z.object({ ok: z.literal(true) });

export const MeResponseSchema = z.object({ user: UserSchema.nullable() });

export const AddUserBodySchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  role: RoleSchema,
  /** Omit to have one generated and returned once; checked against the password policy (RS_ERR_PASSWORD_WEAK). */
  password: z.string().min(1).max(1024).optional(),
  replace: z.boolean().default(false),
});
export const AddUserResponseSchema = z.object({ user: UserSchema, generated_password: z.string().optional() });
export const UsersResponseSchema = z.object({
  users: z.array(UserSchema.extend({ sessions: z.number().int().describe('live sessions') })),
});
export const UserParamsSchema = z.object({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/) });
export const UserResponseSchema = z.object({ user: UserSchema });
export const ChangePasswordBodySchema = z.object({
  current_password: z.string().min(1).max(1024),
  new_password: z.string().min(1).max(1024),
});

export const AuditEntrySchema = z.object({
  seq: z.number().int(),
  ts: z.number().int(),
  user: z.string().nullable(),
  role: RoleSchema.nullable(),
  action: z.string(),
  target: z.string().nullable(),
  ok: z.boolean(),
  detail: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
});
export const AuditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  /** Entries about one alarm, device or user. */
  target: z.string().optional(),
  action: z.string().optional(),
});
export const AuditResponseSchema = z.object({ entries: z.array(AuditEntrySchema) });
