"""A real SMTP server on 127.0.0.1 for the tests that deliver email (aiosmtpd).

It keeps what it accepted, can refuse messages for a while (a mail server that is down or
says "try later"), and can hold a message before answering, so a test can kill the sender
while the mail server has not yet accepted it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller

from audit_portal.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the server accepted; ``refuse`` answers ``refusal`` to that many messages first;
    from message number ``hold_from`` (counting from 0) on, messages wait for ``release()``."""

    messages: list[bytes] = field(default_factory=list)
    refuse: int = 0
    refusal: str = "451 4.3.0 Try again later"
    hold_from: int | None = None
    arrivals: int = 0
    answered: int = 0
    waiting: threading.Event = field(default_factory=threading.Event)  # one is being held
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            number, self.arrivals = self.arrivals, self.arrivals + 1
        if self.hold_from is not None and number >= self.hold_from:
            self.waiting.set()
            try:
                while not self.released.is_set():
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:  # the client went away: the message is not accepted
                with self.lock:
                    self.answered += 1
                raise
        with self.lock:
            self.answered += 1
            if self.refuse > 0:
                self.refuse -= 1
                return self.refusal
            self.messages.append(envelope.content)
        return "250 Message accepted for delivery"

    def parsed(self) -> list[Message]:
        return [message_from_bytes(raw) for raw in self.messages]

    def release(self) -> None:
        """Answer the held messages, and wait until they have been answered."""
        self.released.set()
        for _ in range(200):
            if self.answered == self.arrivals:
                return
            time.sleep(0.05)

    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.parsed())


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release()
        controller.stop()


def with_smtp(settings: Settings, port: int) -> Settings:
    return replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
