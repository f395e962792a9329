/** The state a link reports; published on the device's retained status topic. */
export type LinkState = 'connecting' | 'online' | 'error' | 'offline';

/** What a message link knows about one QoS ≥ 1 message: its packet id and whether it is a redelivery (DUP). */
export interface MessageInfo {
  messageId: number;
  dup: boolean;
}

export interface LinkHandlers {
  /**
   * Bytes from the device, in whatever chunks the OS delivers them. May return a promise that
   * settles once what the chunk carried is committed (the agent's outbox): a link that can
   * acknowledge its messages (MQTT QoS 1) acknowledges only after it resolves, so a crash before
   * the commit leaves the message with the broker. Byte links ignore it.
   */
  data(chunk: Buffer, message?: MessageInfo): void | Promise<void>;
  /** Every state change, with details for the technician (path, attempt, error, next retry). */
  state(state: LinkState, detail: Record<string, unknown>): void;
}

/**
 * A byte link to one device: a serial port, a pty, or an in-process wire. It reconnects by
 * itself; `open` is called once and `close` once.
 */
export interface DeviceLink {
  open(handlers: LinkHandlers): void;
  /** Rejects when the link is down; callers treat that like a device that did not answer. */
  write(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
  readonly description: string;
}

/** Reconnect delays: ×1.5 from `initialMs`, capped at `maxMs` (docs/agent.md "Reconnect backoff"). */
export function nextBackoff(current: number, opts: { initialMs: number; maxMs: number }): number {
  return current <= 0 ? opts.initialMs : Math.min(opts.maxMs, Math.round(current * 1.5));
}
