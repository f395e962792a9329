/**
 * One registry of stable error codes. Codes never change meaning once released: they are
 * counted on /metrics, written to dead-letter topics and matched by scripts.
 */
export const ERROR_CODES = {
  RS_ERR_FRAME_SYNTAX: 'a frame did not match the device protocol',
  RS_ERR_FRAME_CHECKSUM: 'a frame failed its checksum',
  RS_ERR_FRAME_RANGE: 'a decoded value lies outside its channel range',
  RS_ERR_FRAME_TRUNCATED: 'a frame ended early',
  RS_ERR_FRAME_UNKNOWN: 'a frame of a type this profile does not know',
  RS_ERR_FRAME_OVERSIZE: 'a frame exceeded the maximum length without a delimiter',
  RS_ERR_READING_INVALID: 'a decoded reading failed canonical validation',
  RS_ERR_PAYLOAD_JSON: 'an MQTT payload is not JSON',
  RS_ERR_PAYLOAD_INVALID: 'an MQTT payload failed schema validation',
  RS_ERR_CONFIG_INVALID: 'the configuration file is invalid',
  RS_ERR_CONFIG_UNREADABLE: 'the configuration file could not be read or parsed',
  RS_ERR_SCENARIO_INVALID: 'a scenario file is invalid',
  RS_ERR_RECORD_INVALID: 'scenario record cannot make a scenario of that window (no readings, too many, mixed profiles, bad flags)',
  RS_ERR_TRAINING_UNAVAILABLE: 'training runs need a broker URL the server was not given',
  RS_ERR_HTTP_BODY: 'an HTTP request body or query failed validation',
  RS_ERR_CLI_USAGE: 'a command-line flag or argument is invalid',
  RS_ERR_DEVICE_TIMEOUT: 'a device did not answer a request in time',
  RS_ERR_PORT_OPEN: 'a serial port could not be opened',
  RS_ERR_PORT_LOST: 'a serial port stopped delivering data or vanished',
  RS_ERR_UNKNOWN_PROFILE: 'no device profile has that id',
  RS_ERR_INFLUX_BAD_DATA: 'InfluxDB rejected points as bad data (4xx)',
  RS_ERR_INFLUX_AUTH: 'InfluxDB refused the credentials (401/403)',
  RS_ERR_INFLUX_UNAVAILABLE: 'InfluxDB could not be reached or answered 5xx/429',
  RS_ERR_QUEUE_FULL: 'a bounded queue is full',
  RS_ERR_HTTP: 'an HTTP request failed with a status fastify set',
  RS_ERR_INTERNAL: 'an unexpected server error (details in the log)',
  RS_ERR_NOT_FOUND: 'no such route, alarm or device',
  RS_ERR_CONFLICT: 'the thing to create exists already',
  RS_ERR_AUTH_REQUIRED: 'the action needs a login',
  RS_ERR_AUTH_FAILED: 'wrong user name or password',
  RS_ERR_AUTH_THROTTLED: 'too many failed logins from this address; wait',
  RS_ERR_FORBIDDEN: "the user's role may not do this",
  RS_ERR_ALARM_NOT_FOUND: 'no alarm with that id',
  RS_ERR_ALARM_INVALID_STATE: 'the alarm is not in a state that allows this action',
  RS_ERR_ALARM_INVALID_ARGUMENT: 'an alarm action argument is out of range',
  RS_ERR_TS_FUTURE: "a reading's timestamp lies further in the future than the plausibility window allows",
  RS_ERR_TS_PAST: "a reading's timestamp lies further in the past than the plausibility window allows",
  RS_ERR_CHANNEL_UNKNOWN: 'a reading carries a channel its profile does not declare',
  RS_ERR_CHANNEL_TYPE: 'a channel value has the wrong type for its channel (number, boolean or enum)',
  RS_ERR_DEVICE_UNKNOWN: "a reading or status names a device that is not in the station's configuration",
  RS_ERR_DEVICE_MISMATCH: "a payload's station or device differs from the topic it was published on",
  RS_ERR_PAYLOAD_TOO_LARGE: 'an MQTT payload or HTTP body exceeds its size or count bound',
  RS_ERR_MQTT_AUTH: 'the broker refused a client: unknown identity or wrong password',
  RS_ERR_MQTT_FORBIDDEN: "the broker refused a publish or subscribe outside the client's ACL",
  RS_ERR_CALIBRATION_UNTRUSTED: 'a calibration did not come from the server identity or does not match its record',
  RS_ERR_CALIBRATION_IMPLAUSIBLE: "a calibration factor lies outside the plausible range for the device's profile",
  RS_ERR_CALIBRATION_APPROVAL: "a calibration outside the plausible range waits for a second person's approval",
  RS_ERR_SSE_SLOW_CLIENT: 'a live-stream client fell too far behind and was dropped',
  RS_ERR_SSE_LIMIT: 'too many live-stream clients are connected',
  RS_ERR_ORIGIN: 'a state-changing request came from another origin',
  RS_ERR_PASSWORD_WEAK: 'the password is too short or on the list of common passwords',
  RS_ERR_USER_DISABLED: 'the user account is disabled',
  RS_ERR_SESSION_EXPIRED: 'the session expired after being idle; log in again',
  RS_ERR_RETENTION: 'data is older than the retention policy it would be written to keeps',
  RS_ERR_SERVICE_DEGRADED: 'a part of the station is down or above its bound (see /healthz reasons)',
  RS_ERR_PASSWORD_CHANGE_REQUIRED: 'the account has a one-time password: change it (POST /api/me/password) before anything else',
  RS_ERR_AGENT_DOWN: 'the agent serving the device stopped or lost its broker connection',
  RS_ERR_SPECTRUM_INVALID: 'a spectrum file or record is unreadable or inconsistent (channel count, calibration, times)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error that carries a stable code; `details` holds what a person needs to fix it. */
export class RadscreenError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RadscreenError';
  }
}

/** A typed reject from a decoder or validator: counted per device and code, never thrown. */
export interface Reject {
  code: ErrorCode;
  message: string;
  /** The offending bytes, kept for the debug log's hex dump and the dead-letter record. */
  raw?: Buffer;
}

export function reject(code: ErrorCode, message: string, raw?: Buffer): Reject {
  return raw === undefined ? { code, message } : { code, message, raw };
}
