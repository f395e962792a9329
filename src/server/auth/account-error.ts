import { type ErrorCode, RadscreenError } from '../../core/errors.ts';

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
};

/**
 * An account operation that was refused for a reason the caller must see: a weak password,
 * an unknown user, the last enabled admin. It carries the HTTP status, so the app's error
 * handler answers `{statusCode, code, error, message}` with it; the CLI prints the message.
 */
export class AccountError extends RadscreenError {
  readonly statusCode: number;
  constructor(code: ErrorCode, statusCode: 401 | 403 | 404 | 409 | 422, message: string) {
    super(code, message);
    this.statusCode = statusCode;
    this.name = STATUS_TEXT[statusCode] ?? 'Error';
  }
}
