import type { AlarmEngine } from '../../alarms/engine.ts';
import type { AuthContext } from '../auth/guard.ts';
import type { LiveState } from '../live-state.ts';
import type { StorageState } from '../schemas.ts';

/** What every route plugin receives: the live state, the storage state and a clock. */
export interface ServerDeps {
  state: LiveState;
  /** The alarm engine operator actions run through. */
  engine: AlarmEngine;
  /** Read on every request, so the owner may update it in place when storage goes up or down. */
  storage: StorageState;
  now: () => number;
  /** Users, sessions, audit log and the permission guard. */
  auth: AuthContext;
  /** SSE heartbeat comment interval (ms); proxies drop idle streams without it. */
  heartbeatMs: number;
}
