'use strict';
/**
 * Typed errors of the sidecast client. Every error a call rejects with is a
 * SidecastError; `code` is the proto's ErrorCode name without its `ERROR_`
 * prefix ('DUPLICATE', 'NOT_FOUND', 'TIMEOUT', ...) or one of the client's own
 * codes ('DISCONNECTED', 'QUEUE_FULL', 'CLOSED').
 */

const proto = require('./proto').sidecast.v1;

/** ErrorCode name (without `ERROR_`) -> number, from proto/sidecast.proto. */
const ErrorCode = {};
/** number -> name */
const codeNames = {};
for (const [name, value] of Object.entries(proto.ErrorCode)) {
  const short = name.replace(/^ERROR_/, '');
  ErrorCode[short] = value;
  codeNames[value] = short;
}
Object.freeze(ErrorCode);

class SidecastError extends Error {
  /**
   * @param {string} code  short code name, e.g. 'NOT_FOUND'
   * @param {string} message
   * @param {{ref?: string, fatal?: boolean, cause?: Error}} [extra] cause: what made it fail (an Error's `cause`)
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause ? { cause: extra.cause } : undefined);
    this.name = 'SidecastError';
    this.code = code;
    this.ref = extra.ref || '';
    this.fatal = !!extra.fatal;
  }
}

/** A call did not complete in time (client side, or ERROR_TIMEOUT from sidecastd). */
class TimeoutError extends SidecastError {
  constructor(message, extra) {
    super('TIMEOUT', message, extra);
    this.name = 'TimeoutError';
  }
}

/** sidecastd is not connected and the call could not wait (or the connection dropped mid-call). */
class DisconnectedError extends SidecastError {
  constructor(message, code = 'DISCONNECTED', extra) {
    super(code, message, extra);
    this.name = 'DisconnectedError';
  }
}

/** Error frame (decoded) -> typed error. */
function fromFrame(e) {
  const code = codeNames[e.code] || 'UNSPECIFIED';
  const msg = `sidecastd: ${e.message || code}`;
  const extra = { ref: e.ref, fatal: e.fatal };
  return code === 'TIMEOUT' ? new TimeoutError(msg, extra) : new SidecastError(code, msg, extra);
}

module.exports = { ErrorCode, SidecastError, TimeoutError, DisconnectedError, fromFrame };
