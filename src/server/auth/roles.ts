import { z } from 'zod';

/**
 * Roles and what each may do. Reading (the console, every GET of live data) needs no login;
 * every action needs one of the roles listed for its permission. The lists are explicit on
 * purpose: an admin manages users and config but does not acknowledge alarms, so an alarm's
 * audit trail always names an operator (ISA-18.2 separates those duties).
 */
export const RoleSchema = z.enum(['operator', 'technician', 'trainer', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

/** Every permission a mutating (or private) route can require, with the roles that hold it. */
export const PERMISSIONS = {
  /** Acknowledge, shelve, unshelve, silence, reset, disposition. */
  'alarm.operate': ['operator'],
  /** Take a device (its alarms) out of service and return it; calibration records. */
  'device.maintain': ['technician'],
  /** Approve or reject a calibration outside the plausible range: a second person, never the requester (routes/calibration-approvals.ts). */
  'calibration.approve': ['technician', 'admin'],
  /** Start and stop training scenarios. */
  'training.run': ['trainer'],
  /** Work a training run's alarms as its trainee, or start a scenario alone (self-paced). */
  'training.act': ['operator', 'technician'],
  /** Create users, change config. */
  'users.manage': ['admin'],
  /** Read the audit log. */
  'audit.read': ['admin', 'operator'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

/** Whether `role` holds `permission`. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
