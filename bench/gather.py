"""Benchmark `newsletter gather` against many local feeds with a realistic fault mix.

    python bench/gather.py [--feeds 500] [--entries 15] [--ports 50]

A server process on 127.0.0.1 serves every feed (spread over several ports, since
the gatherer allows two connections per host) with this mix: 10% hang or drip,
5% HTTP 500, 5% malformed XML, 2% oversized, 1% gzip bomb, 1% redirect loop; the
rest are good RSS 2.0 feeds answering conditional GETs. The gather runs twice,
the second time at once. Prints wall seconds, peak RSS, entries stored against
entries served by good feeds, faults by kind and rows added by the second run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import multiprocessing
import random
import resource
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

from newsletter.config import init_workspace, load_workspace
from newsletter.gather.run import gather
from newsletter.inbox import open_inbox

# Per hundred feeds: which fault each slot gets (the rest are good feeds).
FAULTS = {
    "hang": 5,
    "drip": 5,
    "http-500": 5,
    "malformed": 5,
    "oversized": 2,
    "gzip-bomb": 1,
    "redirect-loop": 1,
}
MB = 1024 * 1024


def fault_of(index: int) -> str:
    # Scatter the faults so no port (host) gets more than its share of them.
    slot = random.Random(index).randrange(100)
    for kind, count in FAULTS.items():
        if slot < count:
            return kind
        slot -= count
    return "good"


WORDS = [
    *("government", "market", "digital", "energy", "startup", "bank", "chip", "factory"),
    *("port", "rice", "cloud", "data", "policy", "export", "investment", "minister"),
    *("city", "province", "network", "court", "budget", "school", "health"),
]


def text(index: int, n: int) -> str:
    """About 60 words, different for every story, plus the boilerplate feeds add."""
    pick = random.Random(index * 1000 + n).choices
    return " ".join(pick(WORDS, k=60)) + f". The post appeared first on Feed {index}."


def rss(index: int, entries: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {index} story {n}: a headline of ordinary length</title>"
        f"<link>https://news{index}.example/story/{n}?utm_source=rss</link>"
        f"<guid>https://news{index}.example/story/{n}</guid>"
        f"<pubDate>Mon, 0{1 + n % 9} Jun 2026 08:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;{text(index, n)}&lt;/p&gt;</description>"
        "</item>"
        for n in range(entries)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {index}</title><link>https://news{index}.example/</link>"
        f"<description>Feed {index}</description>{items}</channel></rss>"
    ).encode()


def gzip_bomb() -> bytes:
    """A few KB that inflate to 1 GB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MB)
    parts = [compressor.compress(chunk) for _ in range(1024)]
    return b"".join(parts) + compressor.flush()


# ---------------------------------------------------------------------- server


class FeedServer:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.bomb = gzip_bomb()
        self.bodies: dict[int, bytes] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                keep_alive = await self.respond(request.decode("latin-1"), writer)
                if not keep_alive:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def respond(self, request: str, writer: asyncio.StreamWriter) -> bool:
        lines = request.split("\r\n")
        path = lines[0].split(" ")[1]
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        index = int(path.strip("/").split("/")[1].split(".")[0])
        kind = fault_of(index)
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "drip":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
            for _ in range(3600):
                writer.write(b"<")
                await writer.drain()
                await asyncio.sleep(1)
        if kind == "http-500":
            return self.send(writer, 500, b"Internal Server Error", {})
        if kind == "redirect-loop":
            target = f"/feed/{index}.xml" if "loop" in path else f"/feed/{index}.xml?loop"
            return self.send(writer, 301, b"", {"Location": target})
        if kind == "gzip-bomb":
            return self.send(writer, 200, self.bomb, {"Content-Encoding": "gzip"})
        if kind == "oversized":
            body = b"<rss><channel>" + b"<item><title>x</title></item>" * (8 * MB // 28)
            return self.send(writer, 200, body, {})
        if kind == "malformed":
            return self.send(writer, 200, rss(index, self.entries)[:-200] + b"<<<&&", {})
        body = self.bodies.setdefault(index, rss(index, self.entries))
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return self.send(writer, 304, b"", {"ETag": etag})
        extra = {"ETag": etag}
        if "gzip" in headers.get("accept-encoding", ""):
            body, extra["Content-Encoding"] = gzip.compress(body, 6), "gzip"
        return self.send(writer, 200, body, extra)

    @staticmethod
    def send(writer: asyncio.StreamWriter, status: int, body: bytes, headers: dict) -> bool:
        head = [f"HTTP/1.1 {status} X", "Content-Type: application/rss+xml"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return True


def serve(ports: list[int], entries: int, ready: multiprocessing.synchronize.Event) -> None:
    async def main() -> None:
        server = FeedServer(entries)
        for port in ports:
            await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=512)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


# ---------------------------------------------------------------------- bench


def run_once(root: Path) -> tuple[float, list]:
    start = time.perf_counter()
    reports = gather(load_workspace(root))
    return time.perf_counter() - start, reports


def describe(label: str, seconds: float, reports: list, rows: int, added: int) -> None:
    statuses = Counter(r.status for r in reports)
    failures = Counter(classify(r.reason) for r in reports if r.status == "failed")
    print(f"{label}: {seconds:.2f} s wall, {rows} rows in the inbox (+{added})")
    print(f"  sources: {dict(sorted(statuses.items()))}")
    print(f"  failures by reason: {dict(sorted(failures.items()))}")


def classify(reason: str) -> str:
    reason = reason.lower()
    for word in ("timed out", "within", "larger", "redirect", "malformed", "http 500"):
        if word in reason:
            return word
    return reason[:40]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=15)
    parser.add_argument("--ports", type=int, default=250, help="hosts (ports) to spread over")
    args = parser.parse_args()

    ports = free_ports(args.ports)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(ports, args.entries, ready), daemon=True)
    server.start()
    ready.wait(30)
    faults = Counter(fault_of(i) for i in range(args.feeds))
    good_entries = faults["good"] * args.entries
    print(f"{args.feeds} feeds on {len(ports)} ports; served: {dict(sorted(faults.items()))}")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        init_workspace(root, title="Bench")
        config = (root / "sources.yaml").read_text().replace("sources: []", "sources:")
        config += "".join(
            f"  - name: feed{i}\n    url: http://127.0.0.1:{ports[i % len(ports)]}/feed/{i}.xml\n"
            for i in range(args.feeds)
        )
        (root / "sources.yaml").write_text(config)

        seconds, reports = run_once(root)
        with open_inbox(load_workspace(root)) as inbox:
            first_rows = inbox.count()
            per_source = dict(
                inbox.db.execute("SELECT source, count(*) FROM candidates GROUP BY source")
            )
        describe("first run", seconds, reports, first_rows, first_rows)
        good = sum(
            per_source.get(f"feed{i}", 0) for i in range(args.feeds) if fault_of(i) == "good"
        )
        print(f"  entries stored from good feeds: {good} of {good_entries} served")
        print(f"  (malformed feeds read leniently added {first_rows - good} more)")
        seconds, reports = run_once(root)
        with open_inbox(load_workspace(root)) as inbox:
            rows = inbox.count()
        describe("second run", seconds, reports, rows, rows - first_rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the gathering process: {peak:.0f} MB")
    server.kill()


if __name__ == "__main__":
    main()
