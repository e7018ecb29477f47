"""sidecast: the Python client of sidecastd, a python-socketio manager and an emitter.

* :class:`SidecastClient` — an asyncio connection to the node's sidecastd
  (proto/README.md's local protocol).
* :class:`SidecastManager` — a ``socketio.AsyncManager`` for
  ``socketio.AsyncServer(client_manager=...)`` that makes python-socketio
  servers one cluster through their sidecastds, and shares that cluster
  with Node socket.io servers on the sidecast adapter (the socket.io mapping
  of proto/README.md).
* :class:`Emitter` — socket.io emits from a process with no socket.io server.

The manager and the emitter import python-socketio; the client alone does not.
"""

from .client import (CLIENT_FEATURES, PROTOCOL_VERSION, Delivery, Gap, LookupResult, NodeInfo, Progress,
                     RoomInfo, ServerMessage, SessionData, SidecastClient, SocketInfo, SocketLocation)
from .errors import DisconnectedError, SidecastError, SidecastTimeoutError
from .selector import Selector

__version__ = '0.2.0'
__all__ = ['SidecastClient', 'SidecastManager', 'Emitter', 'Selector', 'SidecastError', 'SidecastTimeoutError',
           'DisconnectedError', 'Delivery', 'Gap', 'LookupResult', 'NodeInfo', 'Progress', 'RoomInfo',
           'ServerMessage', 'SessionData', 'SocketInfo', 'SocketLocation', 'PROTOCOL_VERSION',
           'CLIENT_FEATURES']


def __getattr__(name):
    """SidecastManager and Emitter load python-socketio only when asked for."""
    if name == 'SidecastManager':
        from .manager import SidecastManager
        return SidecastManager
    if name == 'Emitter':
        from .emitter import Emitter
        return Emitter
    raise AttributeError(name)
