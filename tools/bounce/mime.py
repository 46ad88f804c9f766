"""A small MIME splitter: a message's text in, the same ``email.message.Message`` tree (policy
``compat32``) that the standard library's ``email.feedparser`` builds, out.

The standard parser reads a message one line at a time through generators and a stack of
line predicates: on bounce messages it was most of the parser's time. This one cuts the text
at boundary lines found by one search per multipart, and reads the header lines alone line by
line. It follows the standard parser's rules where they change what a reader sees: the
header lines (continuations, a first line ``From ...``, a line that is no header starting the
body), the blocks of a ``message/delivery-status`` part, ``message/*`` parts holding a
message, a multipart's preamble, its parts (the line break before a boundary belongs to the
boundary; repeated boundary lines make no empty part), its epilogue, a missing start or close
boundary, and ``multipart/digest``'s default type. Defects are not recorded.

Pure Python (no ORM); the input has LF line endings (see :func:`.message.load`).
"""

import re
from email.message import Message

#: the header lines at the start of a text: lines that are a header line or its continuation,
#: as the standard parser tells them (name characters are the printable ones but the colon;
#: ``From `` is an mbox envelope line), the last one with or without its line break
HEADER_LINES_RE = re.compile(r"(?:(?:From |[\041-\071\073-\176]*:|[\t ])[^\n]*(?:\n|\Z))*")
#: one header of plain header lines: its name (the text before the first colon), its value
#: from the first character that is no space or tab, with its continuation lines
FIELD_RE = re.compile(r"^([^:\n]*):[ \t]*(.*(?:\n[ \t].*)*)", re.MULTILINE)
#: what makes header lines not plain (read line by line, :func:`_set_headers`): an envelope
#: line, a header with no name, a continuation line first, a carriage return
SPECIAL_STARTS = ("From ", ":", " ", "\t")
SPECIAL_LINES = ("\nFrom ", "\n:", "\r")
#: most nesting followed; deeper parts are kept as text
MAX_NESTING = 30


def parse(text):
    """The ``Message`` tree of ``text`` (a str: bytes decoded as ASCII with surrogateescape,
    as ``email.message_from_bytes`` does)."""
    return parse_part(text, "text/plain", 0)[0]


class _Line:
    """A boundary line found in a body: its offsets and whether it closes the multipart."""

    __slots__ = ("close", "end", "start")

    def __init__(self, start, end, close):
        self.start, self.end, self.close = start, end, close


def _boundary_lines(body, boundary):
    """The boundary lines of ``boundary`` in ``body``, in order: lines that are ``--`` and
    the boundary, then ``--`` for the close boundary, then spaces or tabs only (no regular
    expression compiled per boundary: a string search)."""
    needle = "--" + boundary
    size, found = len(body), []
    position = 0 if body.startswith(needle) else body.find("\n" + needle) + 1
    while position > 0 or (position == 0 and body.startswith(needle)):
        after = position + len(needle)
        end = body.find("\n", after)
        end = size if end < 0 else end
        rest = body[after:end]
        close = rest.startswith("--")
        if not rest[2 if close else 0 :].strip(" \t"):
            found.append(_Line(position, end, close))
        position = body.find("\n" + needle, end if end > position else position + 1) + 1
        if position == 0:
            break
    return found


def _headers(msg, text):
    """Read the header lines at the start of ``text`` into ``msg``; the body's text."""
    blank = text.find("\n\n")
    head = text if blank < 0 else text[: blank + 1]
    # one search finds where the header lines end (a line by line loop cost more)
    end = HEADER_LINES_RE.match(head).end()
    if end < len(head):
        # a line that is no header line starts the body; a blank one is no part of it
        position = end + 1 if head[end] == "\n" else end
    else:
        position = end + 1 if blank >= 0 else end  # the blank line after the headers
    block = head[:end]
    if not (block.startswith(SPECIAL_STARTS) or any(map(block.__contains__, SPECIAL_LINES))):
        # plain header lines (most blocks): one search reads them all
        msg._headers.extend(FIELD_RE.findall(block))
        return text[position:]
    lines = block.split("\n")
    # the text after the last line break is a line only when the text ends without one
    complete = not lines[-1]
    if complete:
        lines.pop()
    return _set_headers(msg, lines, complete) + text[position:]


def _set_headers(msg, lines, complete):
    """Set the headers of ``msg`` from its header ``lines`` (without their line breaks; the
    last one has one when ``complete``), by the standard parser's rules; the text that goes
    back to the body ('' but for an envelope line last)."""
    value = []
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if line[0] in " \t":
            if value:
                value.append(line)
            continue
        if value:
            _set_raw(msg, value)
            value = []
        if line.startswith("From "):
            if number == 0:
                msg.set_unixfrom(line)
            elif number == last:
                # an envelope line last among the headers starts the body
                return line + "\n" if complete else line
            continue
        if line.find(":") > 0:
            value = [line]
    if value:
        _set_raw(msg, value)
    return ""


def _set_raw(msg, value):
    """Append one header as ``compat32`` stores it (name, value with its folds) from its
    lines without their line breaks."""
    name, rest = value[0].split(":", 1)
    rest = rest.lstrip(" \t")
    if len(value) > 1:
        rest += "\n" + "\n".join(value[1:])
    msg._headers.append((name, rest.rstrip("\r\n")))


class HeldMessage(Message):
    """A message held by a ``message/*`` part (the copy of the original in a bounce): its
    headers are read at once, its body only when something asks for it (most readers need
    the original's headers alone). Asked, it is the very tree the standard parser builds."""

    def __init__(self, body, depth):
        self.__dict__["_held"] = None
        super().__init__()
        self.__dict__["_held"] = (body, depth, False)

    def _read(self):
        """Read the body held, once."""
        held = self.__dict__["_held"]
        if held is not None:
            body, depth, drop = held
            self.__dict__["_held"] = None
            last, last_multipart = _body(self, body, self.get_content_type(), depth)
            if drop:
                _drop_last_break(last, last_multipart)

    @property
    def _payload(self):
        self._read()
        return self.__dict__["_value"]

    @_payload.setter
    def _payload(self, value):
        self.__dict__["_held"] = None
        self.__dict__["_value"] = value

    @property
    def preamble(self):
        self._read()  # a multipart's preamble is set when its body is read
        return self.__dict__.get("_preamble")

    @preamble.setter
    def preamble(self, value):
        self.__dict__["_preamble"] = value

    @property
    def epilogue(self):
        self._read()  # a multipart's epilogue is set when its body is read
        return self.__dict__.get("_epilogue")

    @epilogue.setter
    def epilogue(self, value):
        self.__dict__["_epilogue"] = value

    def drop_last_break(self):
        """Drop the last line break of the body when it is read (see :func:`_drop_last_break`)."""
        held = self.__dict__["_held"]
        if held is None:
            _drop_last_break(*_last_of(self))
        else:
            self.__dict__["_held"] = (held[0], held[1], True)


def parse_part(text, default_type, depth):
    """``(message, last, last_is_multipart)`` of one part's ``text``: ``last`` is the message
    the standard parser creates last while reading it (where the part's text ends: a
    multipart that has read its parts, the last block of a delivery-status part, the message
    a ``message/*`` part holds, else the part itself); ``last_is_multipart`` is None when
    ``last`` is a :class:`HeldMessage` not read yet."""
    msg = Message()
    if default_type != "text/plain":
        msg.set_default_type(default_type)
    body = _headers(msg, text)
    last, last_multipart = _body(msg, body, msg.get_content_type(), depth)
    return msg, last, last_multipart


def _body(msg, body, ctype, depth):
    """Read the ``body`` of ``msg`` (of content type ``ctype``) into its payload;
    ``(last, last_is_multipart)`` as :func:`parse_part`."""
    last, last_multipart = msg, ctype.startswith("multipart/")
    if depth >= MAX_NESTING:
        msg._payload = body
    elif ctype == "message/delivery-status":
        msg._payload, last, last_multipart = _blocks(body, depth)
    elif ctype.startswith("message/"):
        held = HeldMessage("", depth + 1)
        # its headers now, its body when asked for
        held.__dict__["_held"] = (_headers(held, body), depth + 1, False)
        msg._payload = [held]
        last, last_multipart = held, None
    elif last_multipart:
        _multipart(msg, body, depth, ctype)
    else:
        msg._payload = body
    return last, last_multipart


def _last_of(msg):
    """``(last, last_is_multipart)`` of a message read already."""
    payload = msg._payload
    ctype = msg.get_content_type()
    if ctype.startswith("multipart/") or not isinstance(payload, list) or not payload:
        return msg, ctype.startswith("multipart/")
    if isinstance(payload[-1], HeldMessage):
        return payload[-1], None
    return _last_of(payload[-1])


def _blocks(body, depth):
    """The header blocks of a ``message/delivery-status`` body, one ``Message`` each, and
    the last message created (as :func:`parse_part`)."""
    blocks = []
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text after the last line break
        ends_with_break = True
    else:
        ends_with_break = False
    index, count = 0, len(lines)
    while True:
        start = index
        while index < count and lines[index] != "":
            index += 1
        chunk = lines[start:index]
        last_has_break = index < count or ends_with_break
        text = "\n".join(chunk) + ("\n" if chunk and last_has_break else "")
        # a block is read as a message of its own (a Content-Type in it is obeyed)
        block, last, last_multipart = parse_part(text, "text/plain", depth + 1)
        blocks.append(block)
        index += 1  # the blank line between blocks
        if index >= count:
            break
    return blocks, last, last_multipart


def _multipart(msg, body, depth, ctype):
    """Split a multipart ``body`` into ``msg``'s preamble, parts and epilogue."""
    boundary = msg.get_boundary()
    if boundary is None:
        msg._payload = body
        return
    found = _boundary_lines(body, boundary)
    start = None
    for index, match in enumerate(found):
        if match.close:
            if start is None:
                # a close boundary before any part: the text before it is the payload
                msg._payload = body[: match.start]
                msg.epilogue = ""
                return
            break
        start = index
        break
    if start is None:
        msg._payload = body
        msg.epilogue = ""
        return
    first = found[start]
    if first.start:
        msg.preamble = body[: first.start - 1]
    default = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
    parts = []
    index = start
    closed = None
    while index < len(found):
        match = found[index]
        if match.close:
            closed = match
            break
        # repeated boundary lines make no empty part
        while index + 1 < len(found):
            if found[index + 1].start != _line_after(body, found[index].end):
                break
            index += 1
            match = found[index]
        part_start = _line_after(body, match.end)
        following = found[index + 1] if index + 1 < len(found) else None
        part_end = following.start if following else len(body)
        part, last, last_multipart = parse_part(body[part_start:part_end], default, depth + 1)
        _drop_last_break(last, last_multipart)
        parts.append(part)
        index += 1
    msg._payload = parts
    if closed is not None:
        end = closed.end
        msg.epilogue = body[end + 1 :] if end < len(body) else ""


def _line_after(body, end):
    """The offset of the line after the one ending at ``end``."""
    return end + 1 if end < len(body) else end


def _drop_last_break(last, multipart):
    """The line break before a boundary belongs to the boundary, not to the part (``last``:
    the message created last while reading it, a ``multipart`` or not, or a
    :class:`HeldMessage` that drops it when read: ``multipart`` None)."""
    if multipart is None:
        last.drop_last_break()
    elif multipart:
        if last.epilogue == "":
            last.epilogue = None
        elif last.epilogue is not None and last.epilogue.endswith("\n"):
            last.epilogue = last.epilogue[:-1]
    elif isinstance(last._payload, str) and last._payload.endswith("\n"):
        last._payload = last._payload[:-1]
