"""Typed errors of the sidecast client.

Every error a call raises is a :class:`SidecastError`; ``code`` is the
proto's ``ErrorCode`` name without its ``ERROR_`` prefix (``'DUPLICATE'``,
``'NOT_FOUND'``, ``'TIMEOUT'``, ...) or one of the client's own codes
(``'DISCONNECTED'``, ``'QUEUE_FULL'``, ``'CLOSED'``, ``'TOO_LARGE'``), the same
names the Node client uses, so logs of both read alike.
"""

from ._pb import pb


class SidecastError(Exception):
    """A refusal by sidecastd or by the client, with its code and reference."""

    def __init__(self, code, message, ref='', fatal=False):
        super().__init__(message)
        self.code = code
        self.ref = ref or ''
        self.fatal = bool(fatal)

    def __repr__(self):
        return '%s(%r, %r)' % (type(self).__name__, self.code, str(self))


class SidecastTimeoutError(SidecastError, TimeoutError):
    """A call did not complete in time (client side, or ERROR_TIMEOUT from sidecastd)."""

    def __init__(self, message, ref='', fatal=False):
        super().__init__('TIMEOUT', message, ref, fatal)


class DisconnectedError(SidecastError, ConnectionError):
    """sidecastd is not connected and the call could not wait, or the connection dropped mid-call."""

    def __init__(self, message, code='DISCONNECTED'):
        super().__init__(code, message)


def code_name(value):
    """ErrorCode number -> short name ('NOT_FOUND'); 'UNSPECIFIED' for unknown numbers."""
    try:
        return pb.ErrorCode.Name(value)[len('ERROR_'):]
    except ValueError:
        return 'UNSPECIFIED'


def from_frame(err):
    """A decoded ``Error`` message -> the typed exception a caller sees."""
    code = code_name(err.code)
    msg = 'sidecastd: %s' % (err.message or code)
    if code == 'TIMEOUT':
        return SidecastTimeoutError(msg, err.ref, err.fatal)
    return SidecastError(code, msg, err.ref, err.fatal)
