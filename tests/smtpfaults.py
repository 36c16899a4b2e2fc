"""A real SMTP relay on 127.0.0.1 (aiosmtpd) that records deliveries and injects faults.

Faults are chosen per address: a reply code (451, 452, 550, ...) at RCPT, a dropped
connection at RCPT (nothing delivered), or at the end of DATA either a drop after the
message was stored (the ambiguous window: delivered, but the client never hears so) or
a hang after storing it, for a test to kill the sender in that window.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["Delivery", "FaultyRelay", "free_port", "running_relay"]

REPLIES = {
    "451": "451 4.3.0 Try again later",
    "452": "452 4.2.2 Mailbox full, try later",
    "550": "550 5.1.1 No such user here",
    "554": "554 5.7.1 Message refused by policy",
}


@dataclass(frozen=True)
class Delivery:
    rcpt: str
    message_id: str
    to: str
    raw: bytes


@dataclass
class FaultyRelay:
    """The aiosmtpd handler. `faults[address]` is consumed one fault per attempt;
    `always[address]` answers every attempt. Every delivery is counted by address;
    with `keep` (tests) it is also kept, headers parsed, for a test to read."""

    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    always: dict[str, str] = field(default_factory=dict)
    keep: bool = True
    deliveries: list[Delivery] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    hung: threading.Event = field(default_factory=threading.Event)
    injected: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, address: str, *faults: str) -> None:
        self.faults[address.lower()].extend(faults)

    def _fault(self, address: str, stage: str) -> str | None:
        key = address.lower()
        if key in self.always:
            return self.always[key] if stage == "rcpt" else None
        queue = self.faults.get(key)
        if not queue or _stage(queue[0]) != stage:
            return None
        fault = queue.popleft()
        self.injected[fault] += 1
        return fault

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        fault = self._fault(address, "rcpt")
        if fault == "drop-rcpt":
            server.transport.close()
            return "421 4.4.2 closing"  # never reaches the client
        if fault:
            return REPLIES[fault]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        (rcpt,) = envelope.rcpt_tos
        fault = self._fault(rcpt, "data")
        if fault == "drop-before-store":
            server.transport.close()
            return "421 4.4.2 closing"
        self._store(rcpt, envelope.content)
        if fault == "drop-after-store":
            server.transport.close()
            return "421 4.4.2 closing"
        if fault == "hang-after-store":
            self.hung.set()
            await asyncio.sleep(120)
        return "250 2.0.0 Queued"

    def _store(self, rcpt: str, content: bytes) -> None:
        delivery = _delivery(rcpt, content) if self.keep else None
        with self.lock:
            self.received[rcpt.lower()] += 1
            self.stored += 1
            if delivery:
                self.deliveries.append(delivery)

    def delivered(self) -> Counter[str]:
        """How many times each address was delivered."""
        with self.lock:
            return self.received.copy()

    def count(self) -> int:
        with self.lock:
            return self.stored


def _delivery(rcpt: str, content: bytes) -> Delivery:
    head = content.split(b"\r\n\r\n", 1)[0]  # the headers are all a test looks at
    message = BytesHeaderParser().parsebytes(head)
    return Delivery(rcpt.lower(), message["Message-ID"], message["To"], content)


def _stage(fault: str) -> str:
    return "data" if fault.endswith("-store") else "rcpt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_relay(handler: FaultyRelay | None = None) -> Iterator[tuple[FaultyRelay, int]]:
    """The relay served on 127.0.0.1 in a thread of this process."""
    handler = handler or FaultyRelay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def addresses(n: int, domain: str = "example.net") -> Iterable[str]:
    return (f"reader{i:05d}@{domain}" for i in range(n))
