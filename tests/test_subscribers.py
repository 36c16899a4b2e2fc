"""Subscribers: CSV import with line-numbered rejections, tokens, statuses, the CLI."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from conftest import run_cli

from newsletter.config import Workspace
from newsletter.deliver.subscribers import (
    SubscriberError,
    Subscribers,
    export_csv,
    import_csv,
    open_subscribers,
)

CSV = (
    "Email,Name\n"  # line 1
    "ana@example.org,Ana\n"  # 2
    '"bob@example.org","Bob\r\nBcc: victim@example.net"\n'  # 3-4: CR/LF in the name
    '"carol@example.org\r\nBcc: x@example.net",Carol\n'  # 5-6: CR/LF in the address
    "dan@example.org; eve@example.org,Two\n"  # 7: two addresses in one row
    "not-an-address,Nobody\n"  # 8
    "Fay@BÜCHER.Example,Fay\n"  # 9: an international domain
    "ana@example.org,Ana again\n"  # 10: already there
    "\n"  # 11: blank lines are skipped
    "gus@example.org\n"  # 12: no name
)


@pytest.fixture
def store(workspace: Workspace) -> Subscribers:
    with open_subscribers(workspace) as opened:
        yield opened


def write_csv(tmp_path: Path, text: str = CSV) -> Path:
    path = tmp_path / "people.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_bad_rows_are_reported_by_line_and_the_rest_imports(
    store: Subscribers, tmp_path: Path
) -> None:
    report = import_csv(store, write_csv(tmp_path))
    lines = {line: problem for line, problem in report.rejected}
    assert sorted(lines) == [3, 5, 7, 8]
    assert "line break" in lines[3] and "name" in lines[3]
    assert "line break" in lines[5] and "address" in lines[5]
    assert "one address per row" in lines[7]
    assert "not a valid address" in lines[8]
    assert (report.added, report.existing) == (3, 1)
    emails = [s.email for s in store.list()]
    assert emails == ["ana@example.org", "Fay@xn--bcher-kva.example", "gus@example.org"]
    assert store.get("ana@example.org").name == "Ana"  # an import never renames
    assert all("victim" not in s.name and "\n" not in s.name for s in store.list())


def test_cli_import_names_file_and_line_and_exits_1(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path)
    result = run_cli("-w", str(workspace.root), "subscribers", "import", str(path))
    assert result.returncode == 1
    assert f"{path}:3: the name contains a line break" in result.stderr
    assert f"{path}:5: the address contains a line break" in result.stderr
    assert "Traceback" not in result.stderr
    assert "3 added, 1 already there, 0 marked as left, 4 rejected" in result.stdout


def test_a_file_without_an_email_column_is_one_line(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "mail,name\nana@example.org,Ana\n")
    result = run_cli("-w", str(workspace.root), "subscribers", "import", str(path))
    assert result.returncode == 1
    assert result.stderr == f"error: {path}:1: the first line must name an 'email' column\n"


def test_import_never_resubscribes_but_applies_a_suppression_list(
    store: Subscribers, tmp_path: Path
) -> None:
    import_csv(store, write_csv(tmp_path, "email\nana@example.org\nbob@example.org\n"))
    store.unsubscribe("ana@example.org")
    report = import_csv(
        store,
        write_csv(tmp_path, "email,status\nANA@example.org,active\nbob@example.org,bounced\n"),
    )
    assert (report.added, report.existing, report.suppressed) == (0, 1, 1)
    assert store.get("ana@example.org").status == "unsubscribed"
    assert store.get("bob@example.org").status == "bounced"


def test_tokens_are_stable_secret_and_unforgeable(store: Subscribers, workspace: Workspace) -> None:
    ana = store.add("ana@example.org", name="Ana")
    bob = store.add("bob@example.org")
    assert len(ana.token) == 32 and ana.token != bob.token
    assert store.token("ANA@example.org") == ana.token  # the same address, any case
    assert store.by_token(ana.token) == ana
    forged = ana.token[:-1] + ("0" if ana.token[-1] != "0" else "1")
    assert store.by_token(forged) is None
    assert store.by_token("ana@example.org") is None
    secret = workspace.root / ".newsletter" / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert ".newsletter/" in (workspace.root / ".gitignore").read_text()
    # Another secret (another workspace) gives other tokens for the same address.
    other = Subscribers(workspace.root / ".newsletter" / "other.sqlite", b"another secret")
    assert other.token("ana@example.org") != ana.token


def test_unsubscribe_by_token_or_address_and_resubscribe_only_when_asked(
    store: Subscribers,
) -> None:
    ana = store.add("ana@example.org")
    assert store.unsubscribe(ana.token).status == "unsubscribed"
    with pytest.raises(SubscriberError, match="--resubscribe"):
        store.add("ana@example.org")
    assert store.add("ana@example.org", resubscribe=True).status == "active"
    assert store.unsubscribe("ana@example.org").status == "unsubscribed"
    with pytest.raises(SubscriberError, match="no subscriber has this token"):
        store.unsubscribe("0" * 32)


def test_export_reads_back_as_the_same_subscribers(
    store: Subscribers, tmp_path: Path, workspace: Workspace
) -> None:
    import_csv(store, write_csv(tmp_path))
    store.unsubscribe("gus@example.org")
    out = io.StringIO()
    assert export_csv(store, out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["email"], r["status"]) for r in rows] == [
        ("ana@example.org", "active"),
        ("Fay@xn--bcher-kva.example", "active"),
        ("gus@example.org", "unsubscribed"),
    ]
    again = Subscribers(tmp_path / "again.sqlite", b"s")
    back = import_csv(again, write_csv(tmp_path, out.getvalue()))
    assert back.added == 3 and not back.rejected
    assert [(s.email, s.name, s.status) for s in again.list()] == [
        (s.email, s.name, s.status) for s in store.list()
    ]


def test_cli_add_list_unsubscribe_remove(workspace: Workspace) -> None:
    ws = ("-w", str(workspace.root))
    added = run_cli(*ws, "subscribers", "add", "ana@example.org", "--name", "Ana")
    assert added.returncode == 0 and added.stdout == "ana@example.org: active\n"
    again = run_cli(*ws, "subscribers", "add", "ana@example.org")
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    bad = run_cli(*ws, "subscribers", "add", "ana@example.org\r\nBcc: x@example.net")
    assert bad.returncode == 1 and "line break" in bad.stderr
    gone = run_cli(*ws, "subscribers", "unsubscribe", "ana@example.org")
    assert gone.stdout == "ana@example.org: unsubscribed\n"
    listed = run_cli(*ws, "subscribers", "list")
    assert "ana@example.org" in listed.stdout and "1 unsubscribed" in listed.stdout
    exported = run_cli(*ws, "subscribers", "export", "--status", "unsubscribed")
    assert exported.stdout.splitlines()[1].startswith("ana@example.org,Ana,unsubscribed,cli,")
    assert run_cli(*ws, "subscribers", "remove", "ana@example.org").returncode == 0
    assert run_cli(*ws, "subscribers", "remove", "ana@example.org").returncode == 1
    assert run_cli(*ws, "subscribers", "list").stdout.strip().endswith("0 complained")


def test_database_is_wal_with_a_busy_timeout(store: Subscribers) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
