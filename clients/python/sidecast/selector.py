"""Selectors (who an emit or a cluster request is for) and the client's mirror.

A selector is ``{rooms, socket_ids, all, except_rooms, except_ids,
user_ids}`` (proto ``Selector``): members of any room, plus listed sockets,
or every socket with ``all``; minus members of any except room and minus
listed except ids. The client keeps what it registered (the mirror) for two
reasons: to re-register everything after sidecastd restarts, and to resolve
a ``Deliver``'s selector against its own sockets (sidecastd sends one short
frame per app connection, never the member list of a room).
"""

from dataclasses import dataclass, field
from typing import List, Optional

_FIELDS = ('rooms', 'socket_ids', 'except_rooms', 'except_ids', 'user_ids')


@dataclass
class Selector:
    """Who a message is for; every list may be empty."""
    rooms: List[str] = field(default_factory=list)
    socket_ids: List[str] = field(default_factory=list)
    all: bool = False
    except_rooms: List[str] = field(default_factory=list)
    except_ids: List[str] = field(default_factory=list)
    user_ids: List[str] = field(default_factory=list)

    def is_empty(self):
        """True when it names nobody (sidecastd refuses such an emit as INVALID)."""
        return not (self.all or self.rooms or self.socket_ids or self.user_ids)


def _strings(v, name):
    """A list of str from a str, an iterable of str, or None."""
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    out = list(v)
    for s in out:
        if not isinstance(s, str):
            raise TypeError('sidecast: selector %s must hold strings, not %r' % (name, type(s).__name__))
    return out


def selector(to=None, **kw):
    """Normalise a Selector, a dict, a proto Selector or keyword arguments into a Selector."""
    if to is None and not kw:
        return Selector()
    if isinstance(to, Selector) and not kw:
        return to
    src = dict(kw)
    if isinstance(to, dict):
        src = dict(to, **kw)
    elif to is not None:
        for name in _FIELDS + ('all',):
            src.setdefault(name, getattr(to, name))
    unknown = set(src) - set(_FIELDS) - {'all'}
    if unknown:
        raise TypeError('sidecast: unknown selector field(s) %s' % ', '.join(sorted(unknown)))
    s = Selector(all=bool(src.get('all', False)))
    for name in _FIELDS:
        setattr(s, name, _strings(src.get(name), name))
    return s


def fill(msg, to):
    """Write Selector ``to`` into a proto Selector message ``msg``."""
    msg.rooms.extend(to.rooms)
    msg.socket_ids.extend(to.socket_ids)
    if to.all:
        msg.all = True
    msg.except_rooms.extend(to.except_rooms)
    msg.except_ids.extend(to.except_ids)
    msg.user_ids.extend(to.user_ids)
    return msg


@dataclass
class Registered:
    """One socket as this client registered it."""
    session_id: str = ''
    user_id: str = ''
    data: Optional[bytes] = None
    rooms: set = field(default_factory=set)


class Mirror:
    """The sockets and rooms this client registered, by id and by room."""

    def __init__(self):
        self.sockets = {}  # socket id -> Registered
        self.rooms = {}  # room -> set of socket ids

    def __contains__(self, socket_id):
        return socket_id in self.sockets

    def __len__(self):
        return len(self.sockets)

    def add(self, socket_id, session_id, user_id, data, rooms):
        """Register a socket (the caller checked that the id is new)."""
        self.sockets[socket_id] = Registered(session_id or '', user_id or '', data)
        self.join(socket_id, rooms)

    def join(self, socket_id, rooms):
        """Add a registered socket to rooms (no-op for unknown sockets)."""
        s = self.sockets.get(socket_id)
        if s is None:
            return
        for r in rooms:
            s.rooms.add(r)
            self.rooms.setdefault(r, set()).add(socket_id)

    def leave(self, socket_id, rooms):
        """Remove a socket from rooms; an empty list leaves every room."""
        s = self.sockets.get(socket_id)
        if s is None:
            return
        for r in list(rooms) if rooms else list(s.rooms):
            s.rooms.discard(r)
            members = self.rooms.get(r)
            if members is not None:
                members.discard(socket_id)
                if not members:
                    del self.rooms[r]

    def remove(self, socket_id):
        """Forget a socket and its memberships."""
        if socket_id in self.sockets:
            self.leave(socket_id, ())
            del self.sockets[socket_id]

    def resolve(self, to):
        """Ids of registered sockets a selector (Selector or proto Selector) picks, each once."""
        if to is None:
            return []
        out = set(self.sockets) if to.all else set()
        for r in to.rooms:
            out.update(self.rooms.get(r, ()))
        out.update(i for i in to.socket_ids if i in self.sockets)
        if len(to.user_ids):
            users = set(to.user_ids)
            out.update(i for i, s in self.sockets.items() if s.user_id and s.user_id in users)
        for r in to.except_rooms:
            out.difference_update(self.rooms.get(r, ()))
        out.difference_update(to.except_ids)
        return list(out)

    def snapshot(self, send):
        """send(socket_id, session_id, user_id, data, rooms) for every socket: re-registration."""
        for sid, s in self.sockets.items():
            send(sid, s.session_id, s.user_id, s.data, sorted(s.rooms))
