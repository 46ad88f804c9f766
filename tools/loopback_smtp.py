"""A real SMTP server on loopback that answers with the reply codes under test.

Built on ``aiosmtpd``. It accepts every message except for recipients whose
domain (or full address) is listed in its refusal rules, which it refuses at
``RCPT TO`` with a real SMTP reply, e.g. ``550 5.1.1 ...`` for an unknown
user. Every accepted message is recorded with its envelope and the time it
was received, so tests and benchmarks can prove who got what, and when.

Used in three places:

* the tests start it in a thread (:class:`LoopbackSMTPServer`);
* ``make demo`` and the benchmarks run it as a process::

    python3 -m tools.loopback_smtp --port 2525 --log .dev/smtp.jsonl

Faults, for the reliability tests: a rule's reply may instead name a fault,

* ``!disconnect``: the connection is dropped at ``RCPT TO`` for that recipient;
* ``!after-data <reply>``: the recipient is accepted, the message refused after DATA
  with ``<reply>`` (e.g. ``!after-data 451 4.3.0 Temporary local problem``);
* ``!hang <seconds>``: the server waits that long after DATA before answering (the
  client times out mid-DATA), then refuses with 451;

* ``!crash``: the connection is dropped at ``RCPT TO`` for that recipient and the server
  stops listening: new connections are refused (``ECONNREFUSED``) until
  :meth:`LoopbackSMTPServer.listen` is called, as after a crash of the MTA;

A relay with latency: ``latency_ms`` (``--latency-ms``) makes the server wait that many
milliseconds before it answers each message's DATA, as a relay 30 to 100 ms away does
(the wait is asynchronous: concurrent connections wait side by side, as on a real relay).

Reply modes (:attr:`RefusingHandler.reply_mode`, ``--reply-mode``), for the server's
reference kept on each e-mail:

* ``""``: ``250 2.0.0 OK: queued`` (no id);
* ``postfix``: ``250 2.0.0 Ok: queued as 4Q1x2Zk7pQz`` (a Postfix queue id);
* ``ses``: as Amazon SES, ``250 Ok 0100018c...-000000`` (its own message id) and the
  Message-ID rewritten to ``<that id@email.amazonses.com>`` in the message delivered.

and :meth:`RefusingHandler.refuse_connections` (or :attr:`RefusingHandler.greeting` set to
a reply, e.g. ``421 4.3.2 Service not available``) makes the next new connections (or
every one) get that reply as greeting, then closed.

No ORM here: this module is plain Python.
"""

import argparse
import asyncio
import json
import logging
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from dataclasses import field
from email import message_from_bytes
from email import policy
from pathlib import Path

# aiosmtpd logs every connection at INFO on "mail.log": keep test and demo output readable.
logging.getLogger("mail.log").setLevel(logging.WARNING)

#: Default refusal rules, keyed by recipient domain (lower case). The values
#: are the exact replies a real MTA gives.
DEFAULT_RULES = {
    "nouser.example": "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    "nodomain.example": "550 5.1.2 <{rcpt}>: Recipient address rejected: Domain not found",
    "disabled.example": "550 5.2.1 <{rcpt}>: Mailbox disabled, not accepting messages",
    "full.example": "452 4.2.2 <{rcpt}>: Mailbox full, quota exceeded",
    "busy.example": "421 4.7.0 Try again later, closing connection. (TSS04)",
    "greylist.example": "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/",
    "spam.example": "550 5.7.1 Message rejected as spam by Content Filtering",
}


@dataclass
class ReceivedMessage:
    """One message accepted by the server, as the recipients' MTA saw it."""

    mail_from: str
    rcpt_tos: list
    data: bytes
    received_at: float
    peer: str = ""
    #: the id the server named in its reply (reply modes ``postfix`` and ``ses``)
    provider_message_id: str = ""
    #: the Message-ID the client sent (before the ``ses`` mode rewrote it)
    original_message_id: str = ""
    #: the server's final reply to the message
    reply: str = ""

    @property
    def message(self):
        """The parsed message (``email.message.EmailMessage``)."""
        return message_from_bytes(self.data, policy=policy.default)

    def as_json(self):
        msg = self.message
        return {
            "mail_from": self.mail_from,
            "rcpt_tos": self.rcpt_tos,
            "received_at": self.received_at,
            "message_id": msg.get("Message-Id", ""),
            "subject": msg.get("Subject", ""),
            "size": len(self.data),
            "reply": self.reply,
            "original_message_id": self.original_message_id,
        }


@dataclass
class RefusingHandler:
    """aiosmtpd handler: refuse by rule at RCPT, record everything accepted.

    :param rules: mapping of recipient domain or full address (lower case) to
        the SMTP reply to give; ``{rcpt}`` in the reply is replaced by the
        recipient address.
    :param log_path: optional JSON-lines file where each accepted message is
        appended (one line per message).
    """

    rules: dict = field(default_factory=lambda: dict(DEFAULT_RULES))
    log_path: str = ""
    #: optional folder where each accepted message is stored whole, one .eml per recipient
    store_dir: str = ""
    received: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: a reply greeting every new connection, which is then closed ("" = normal service)
    greeting: str = ""
    #: how many more connections get :attr:`greeting` (``None``: every one)
    greetings_left: int = None
    #: connections refused by :attr:`greeting`: list of ``(reply, timestamp)``
    refused_connections: list = field(default_factory=list)
    #: called (in the server's event loop) by the ``!crash`` fault to stop listening
    on_crash: object = None
    #: recipients of every message the ``!hang`` fault has held (list of lists), as the
    #: hang starts: a test knows the client is waiting in the middle of DATA
    hung: list = field(default_factory=list)
    #: milliseconds the server waits before it answers each message's DATA (a remote relay)
    latency_ms: float = 0
    #: how the server answers an accepted message: "", "postfix" or "ses" (module doc)
    reply_mode: str = ""

    def refuse_connections(self, reply, count=None):
        """Greet the next ``count`` new connections (every one when ``None``) with
        ``reply``, then close them; ``reply=""`` restores the normal service.

        :param reply: the greeting reply, e.g. ``421 4.3.2 Service not available``
        :param count: number of connections to refuse, or ``None`` for all
        """
        with self.lock:
            self.greeting = reply
            self.greetings_left = count if reply else None

    def take_greeting(self):
        """The fault greeting for a new connection ("" for the normal service); counts
        down :attr:`greetings_left`."""
        with self.lock:
            greeting = self.greeting
            if not greeting:
                return ""
            if self.greetings_left is not None:
                self.greetings_left -= 1
                if self.greetings_left <= 0:
                    self.greeting, self.greetings_left = "", None
            self.refused_connections.append((greeting, time.time()))
            return greeting

    def reply_for(self, address):
        """Return the refusal reply for ``address``, or ``None`` to accept."""
        address = (address or "").lower()
        domain = address.rpartition("@")[2]
        reply = self.rules.get(address) or self.rules.get(domain)
        return reply.format(rcpt=address) if reply else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.reply_for(address)
        if reply in ("!disconnect", "!crash"):
            with self.lock:
                self.refused.append((address, reply, time.time()))
            if reply == "!crash" and self.on_crash:
                self.on_crash()
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        if reply and reply.startswith(("!after-data", "!hang")):
            envelope.rcpt_tos.append(address)
            envelope.mmd_fault = reply
            return "250 2.1.5 OK"
        if reply:
            with self.lock:
                self.refused.append((address, reply, time.time()))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000.0)
        fault = getattr(envelope, "mmd_fault", "")
        if fault:
            action, _sep, argument = fault.partition(" ")
            if action == "!hang":
                with self.lock:
                    self.hung.append(list(envelope.rcpt_tos))
                await asyncio.sleep(float(argument or 30))
                argument = "451 4.4.1 Timeout waiting for the remote side"
            with self.lock:
                self.refused.extend((rcpt, argument, time.time()) for rcpt in envelope.rcpt_tos)
            return argument
        received = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=envelope.original_content or envelope.content,
            received_at=time.time(),
            peer=str(session.peer),
            reply="250 2.0.0 OK: queued",
        )
        self._answer_as(received)
        with self.lock:
            self.received.append(received)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(received.as_json()) + "\n")
            if self.store_dir:
                self._store(received)
        return received.reply

    def _answer_as(self, received):
        """Give ``received`` the id and reply of :attr:`reply_mode` (rewriting its
        Message-ID in the ``ses`` mode, as Amazon SES does)."""
        if self.reply_mode == "postfix":
            queue_id = uuid.uuid4().hex[:11].upper()
            received.provider_message_id = queue_id
            received.reply = f"250 2.0.0 Ok: queued as {queue_id}"
        elif self.reply_mode == "ses":
            ses_id = f"{int(received.received_at * 1000):016x}-{uuid.uuid4()}-000000"
            received.provider_message_id = ses_id
            received.reply = f"250 Ok {ses_id}"
            received.original_message_id = received.message.get("Message-Id", "")
            received.data = _rewrite_message_id(received.data, f"<{ses_id}@email.amazonses.com>")

    def _store(self, received):
        """Write ``received`` to the store folder, once per recipient (``<n>-<rcpt>.eml``),
        as the recipients' mailboxes would hold it."""
        folder = Path(self.store_dir)
        folder.mkdir(parents=True, exist_ok=True)
        number = len(list(folder.glob("*.eml")))
        for rcpt in received.rcpt_tos:
            safe = "".join(char if char.isalnum() or char in "@.-_" else "_" for char in rcpt)
            (folder / f"{number:06d}-{safe}.eml").write_bytes(received.data)
            number += 1


def _rewrite_message_id(data, message_id):
    """``data`` (a raw message) with its Message-ID header replaced by ``message_id``."""
    newline = b"\r\n" if b"\r\n" in data[:2000] else b"\n"
    head, _sep, body = data.partition(newline * 2)
    lines = [line for line in head.split(newline) if not line.lower().startswith(b"message-id:")]
    lines.append(b"Message-ID: " + message_id.encode())
    return newline.join(lines) + newline * 2 + body


class LoopbackSMTPServer:
    """An SMTP server on 127.0.0.1 running in a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`::

        with LoopbackSMTPServer() as smtpd:
            ...  # send to 127.0.0.1:smtpd.port
            assert smtpd.recipients() == [...]

    :param port: TCP port; 0 picks a free one.
    :param rules: refusal rules (see :class:`RefusingHandler`).
    :param log_path: optional JSON-lines log of accepted messages.
    :param latency_ms: milliseconds of delay before answering each message's DATA.
    """

    def __init__(  # noqa: PLR0917 (options joined the existing positional ones)
        self,
        port=0,
        rules=None,
        log_path="",
        host="127.0.0.1",
        store_dir="",
        latency_ms=0,
        reply_mode="",
    ):
        self.handler = RefusingHandler(
            rules=dict(DEFAULT_RULES if rules is None else rules),
            log_path=log_path,
            store_dir=store_dir,
            latency_ms=latency_ms,
            reply_mode=reply_mode,
        )
        self.host = host
        self.port = port or free_port(host)
        self.controller = _Controller(
            self.handler,
            hostname=host,
            port=self.port,
            server_hostname="mx.loopback.test",
            ready_timeout=10,
            enable_SMTPUTF8=True,
        )
        self.handler.on_crash = self._close_listener

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def listening(self):
        """Whether the server accepts new connections (see :meth:`stop_listening`)."""
        server = self.controller.server
        return bool(server and server.is_serving())

    def _close_listener(self):
        """Stop accepting connections (runs in the server's event loop)."""
        self.controller.server.close()

    def stop_listening(self):
        """Close the listening socket, as a crashed MTA would: new connections are
        refused (``ECONNREFUSED``); sessions already open go on."""
        done = threading.Event()

        def close():
            self._close_listener()
            done.set()

        self.controller.loop.call_soon_threadsafe(close)
        done.wait(10)

    def listen(self):
        """Listen again on the same port after :meth:`stop_listening` or ``!crash``."""
        if self.listening:
            return

        async def reopen():
            self.controller.server = await self.controller._create_server()

        asyncio.run_coroutine_threadsafe(reopen(), self.controller.loop).result(10)

    @property
    def received(self):
        """Messages accepted so far (list of :class:`ReceivedMessage`)."""
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def refused(self):
        """Refusals so far: list of ``(address, reply, timestamp)``."""
        with self.handler.lock:
            return list(self.handler.refused)

    def recipients(self):
        """Every envelope recipient that received a message, in order."""
        return [rcpt for msg in self.received for rcpt in msg.rcpt_tos]

    def reset(self):
        with self.handler.lock:
            self.handler.received.clear()
            self.handler.refused.clear()
            self.handler.refused_connections.clear()
            self.handler.hung.clear()


def _controller_class():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class FaultySMTP(SMTP):
        """aiosmtpd's server, greeting with the handler's ``greeting`` fault when set."""

        async def _handle_client(self):
            take_greeting = getattr(self.event_handler, "take_greeting", None)
            greeting = take_greeting() if take_greeting else ""
            if greeting:
                await self.push(greeting)
                self.transport.close()
                return
            await super()._handle_client()

    class FaultyController(Controller):
        def factory(self):
            return FaultySMTP(self.handler, **self.SMTP_kwargs)

    return FaultyController


def _Controller(*args, **kwargs):
    return _controller_class()(*args, **kwargs)


def free_port(host="127.0.0.1"):
    """A TCP port of ``host`` where nothing listens (bound, then released)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--log", default="", help="JSON-lines file of accepted messages")
    parser.add_argument("--store", default="", help="folder keeping each message (.eml)")
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="delay before answering each DATA (ms)"
    )
    parser.add_argument(
        "--reply-mode", default="", choices=("", "postfix", "ses"), help="answer as this server"
    )
    args = parser.parse_args(argv)
    server = LoopbackSMTPServer(
        port=args.port,
        log_path=args.log,
        host=args.host,
        store_dir=args.store,
        latency_ms=args.latency_ms,
        reply_mode=args.reply_mode,
    ).start()
    # pylint: disable=print-used
    print(f"loopback SMTP server on {args.host}:{server.port}; refusing:", flush=True)
    for domain, reply in sorted(server.handler.rules.items()):
        print(f"  *@{domain}: {reply.format(rcpt='...')}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_args: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
