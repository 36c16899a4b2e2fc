"""Benchmark `send`: 10,000 subscribers through a faulty local relay, killed twice.

    python bench/send.py [--subscribers 10000] [--seed 5]

A real aiosmtpd relay on 127.0.0.1 (tests/smtpfaults.py), in a process of its own as a
real relay would be, counting deliveries by address, answers 550 to 1% of the
addresses (always), 451 to 2% and 452 to 1% (once), drops the connection at RCPT for
0.5% and right after storing the message, before answering, for 0.25% (the ambiguous
window). `newsletter send` runs as a subprocess and is SIGKILLed at 30% and 65% of the
deliveries, then resumed with `--resume`. Prints messages per second, how soon each
resume sends again, and delivered, failed, unknown, duplicates and silent losses.
Targets: 0 silent losses; duplicates <= ambiguous events; >= 200 messages/s on one
connection; resume sends again within 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from ctypes import c_longlong
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from smtpfaults import FaultyRelay, running_relay

from newsletter.config import init_workspace, load_workspace
from newsletter.deliver.sendlog import SendLog
from newsletter.deliver.subscribers import open_subscribers
from newsletter.drafting import import_digest

REPO = Path(__file__).resolve().parent.parent
SEED_DIGEST = REPO / "samples" / "000_44c332ae2afef554.txt"
FAULTS = {"550": 0.01, "451": 0.02, "452": 0.01, "drop-rcpt": 0.005, "drop-after-store": 0.0025}
KILL_AT = (0.30, 0.65)


def workspace_with_subscribers(root: Path, count: int, port: int) -> tuple[Path, str]:
    workspace = init_workspace(root, title="SEA Tech Digest")
    config = workspace.root / "sources.yaml"
    text = config.read_text().replace(
        "  note_label:", '  unsubscribe_url: "https://example.org/u?t={token}"\n  note_label:'
    )
    text += (
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n"
        "  retry_delay: 0.2\n  retry_max_delay: 1\n"
    )
    config.write_text(text)
    issue = import_digest(workspace, SEED_DIGEST, date=dt.date(2025, 6, 20))
    with open_subscribers(workspace) as store:
        rows = ((i + 2, {"email": address(i), "name": f"Reader {i}"}) for i in range(count))
        store.import_rows(rows, "bench")
    assert issue.path is not None
    return workspace.root, issue.path.name


def address(i: int) -> str:
    return f"reader{i:05d}@example.net"


def inject(relay: FaultyRelay, count: int, seed: int) -> dict[str, int]:
    """Choose the faulty addresses; returns how many of each fault."""
    chosen = random.Random(seed).sample(range(count), int(count * sum(FAULTS.values())))
    planned: dict[str, int] = {}
    start = 0
    for fault, share in FAULTS.items():
        picked = chosen[start : start + int(count * share)]
        start += len(picked)
        planned[fault] = len(picked)
        for i in picked:
            if fault == "550":
                relay.always[address(i)] = "550"
            else:
                relay.add(address(i), fault)
    return planned


class SharedCount(FaultyRelay):
    """The relay's handler, also counting deliveries where the bench process reads them."""

    shared: c_longlong

    def _store(self, rcpt: str, content: bytes) -> None:
        super()._store(rcpt, content)
        self.shared.value += 1  # only this thread writes it


@dataclass
class RelayProcess:
    """The relay running in its own process: the deliveries so far, and at the end
    the count by address and the faults injected."""

    port: int
    shared: c_longlong
    results: Connection

    def count(self) -> int:
        return self.shared.value

    def outcome(self) -> tuple[Counter[str], Counter[str]]:
        self.results.send("done")
        return self.results.recv()


def serve_relay(count: int, seed: int, shared: c_longlong, control: Connection) -> None:
    """The relay process: serve until the bench asks for the outcome."""
    handler = SharedCount(keep=False)  # the bench counts; keeping 650 MB of messages is not its job
    handler.shared = shared
    planned = inject(handler, count, seed)
    with running_relay(handler) as (_, port):
        control.send((port, planned))
        control.recv()
        control.send((handler.delivered(), handler.injected.copy()))


@contextmanager
def relay_process(count: int, seed: int) -> Iterator[tuple[RelayProcess, dict[str, int]]]:
    shared = multiprocessing.Value("q", 0, lock=False)
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve_relay, args=(count, seed, shared, theirs))
    process.start()
    try:
        port, planned = ours.recv()
        yield RelayProcess(port, shared, ours), planned
    finally:
        process.kill()
        process.join()


@dataclass
class Run:
    """One `newsletter send` process, as the relay saw it."""

    first_delivery: float  # seconds from the start of the process
    delivered: int
    sending_seconds: float  # from its first delivery to its last
    killed: bool
    output: str


def settle(relay: RelayProcess, quiet: float = 0.3) -> None:
    """Wait until the relay has stored what it will: a message whose body arrived before
    the kill is stored after it, and belongs to this run, not to the next one's start."""
    count, since = relay.count(), time.perf_counter()
    while time.perf_counter() - since < quiet:
        time.sleep(0.01)
        if relay.count() != count:
            count, since = relay.count(), time.perf_counter()


def run_send(
    root: Path, issue: str, relay: RelayProcess, *, resume: bool, kill_at: int | None
) -> Run:
    """Run `newsletter send` until it ends, or SIGKILL it once the relay has `kill_at`."""
    args = [sys.executable, "-m", "newsletter", "-w", str(root), "send", issue]
    if resume:
        args.append("--resume")
    before = relay.count()
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = last = None
    seen = before
    while process.poll() is None:
        now, done = time.perf_counter(), relay.count()
        if done != seen:
            first, last, seen = first or now, now, done
        if kill_at is not None and done >= kill_at:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            break
        time.sleep(0.002)
    settle(relay)
    output = process.stdout.read() if process.stdout else ""
    if kill_at is None and process.returncode != 0:
        raise SystemExit(f"send failed:\n{output}")
    return Run(
        first_delivery=(first - started) if first else float("nan"),
        delivered=relay.count() - before,
        sending_seconds=(last - first) if first and last else float("nan"),
        killed=kill_at is not None,
        output=output,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    options = parser.parse_args()
    count = options.subscribers
    with (
        relay_process(count, options.seed) as (relay, planned),
        tempfile.TemporaryDirectory() as tmp,
    ):
        root, issue = workspace_with_subscribers(Path(tmp) / "ws", count, relay.port)
        runs = []
        for n, share in enumerate((*KILL_AT, None)):
            kill_at = int(count * share) if share else None
            runs.append(run_send(root, issue, relay, resume=n > 0, kill_at=kill_at))
        delivered, injected = relay.outcome()
        report(root, issue, delivered, injected, runs, planned, count)


def report(
    root: Path,
    issue: str,
    delivered: Counter[str],
    injected: Counter[str],
    runs: list[Run],
    planned: dict[str, int],
    count: int,
) -> None:
    with open_subscribers(load_workspace(root)) as store:
        log = SendLog(store.db, issue)
        counts = log.counts()
        statuses = {e.email: s for s in counts for e in log.entries(s)}  # type: ignore[arg-type]
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    lost = [a for a, s in statuses.items() if not delivered[a] and s not in ("failed", "unknown")]
    ambiguous = injected["drop-after-store"]
    for n, run in enumerate(runs, 1):
        rate = run.delivered / run.sending_seconds
        end = "SIGKILL" if run.killed else "finished"
        print(
            f"run {n}: first delivery {run.first_delivery:.2f} s after start, "
            f"{run.delivered} delivered, {rate:.0f} msg/s while sending, {end}"
        )
    sent = sum(run.delivered for run in runs)
    seconds = sum(run.sending_seconds for run in runs)
    print(f"all runs: {sent} delivered in {seconds:.1f} s of sending, {sent / seconds:.0f} msg/s")
    print("last run's report:", runs[-1].output.strip().splitlines()[0])
    print(f"subscribers {count}; faults planned {planned}; injected {dict(injected)}")
    print(
        f"delivered {len(delivered)}, failed {counts['failed']}, unknown {counts['unknown']}, "
        f"deferred {counts['deferred']}, duplicates {duplicates}, silent losses {len(lost)}"
    )
    print(f"ambiguous events: {ambiguous} drops after DATA (+ kills that landed in the window)")
    print(f"log: {counts}")


if __name__ == "__main__":
    main()
