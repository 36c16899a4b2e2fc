"""`send` through a real SMTP relay (aiosmtpd on 127.0.0.1) that injects faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default

import pytest
from conftest import run_cli
from smtpfaults import FaultyRelay, running_relay

from newsletter.config import Workspace, load_workspace
from newsletter.deliver.personalise import Personaliser
from newsletter.deliver.send import SendError, SendOptions, send_issue, send_test
from newsletter.deliver.sendlog import SendLog
from newsletter.deliver.smtp import RelayError
from newsletter.deliver.subscribers import open_subscribers
from newsletter.editorial import read_issue, write_story
from newsletter.models import Issue
from newsletter.render.email import render_email

UNSUBSCRIBE_URL = "https://example.org/digest/unsubscribe?t={token}"


def reader(i: int) -> str:
    return f"reader{i:02d}@example.net"


def configure(workspace: Workspace, port: int, **smtp: object) -> Workspace:
    """The workspace with a one-click unsubscribe URL and the local relay."""
    config = workspace.root / "sources.yaml"
    text = config.read_text().replace(
        "  note_label:", f'  unsubscribe_url: "{UNSUBSCRIBE_URL}"\n  note_label:'
    )
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "retry_delay": 0.05}
    settings |= smtp
    text += "smtp:\n" + "".join(f"  {key}: {value}\n" for key, value in settings.items())
    config.write_text(text)
    return load_workspace(workspace.root)


def subscribe(workspace: Workspace, count: int) -> None:
    with open_subscribers(workspace) as store:
        rows = ((i + 2, {"email": reader(i), "name": f"Reader {i}"}) for i in range(count))
        store.import_rows(rows, "test")


@pytest.fixture
def relay() -> Iterator[tuple[FaultyRelay, int]]:
    with running_relay() as running:
        yield running


@pytest.fixture
def ready(workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]) -> Workspace:
    """Seed issue, ten subscribers, the relay configured."""
    configured = configure(workspace, relay[1])
    subscribe(configured, 10)
    return configured


def log_of(workspace: Workspace, issue: Issue) -> dict[str, str]:
    with open_subscribers(workspace) as store:
        log = SendLog(store.db, issue.slug)
        return {e.email: s for s in log.counts() for e in log.entries(s)}  # type: ignore[arg-type]


def status_of(workspace: Workspace, email: str) -> str:
    with open_subscribers(workspace) as store:
        found = store.get(email)
        assert found is not None
        return found.status


def test_fault_free_send_delivers_each_recipient_once_with_their_own_token(
    ready: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, _ = relay
    report = send_issue(ready, seed_issue)
    assert report.counts["sent"] == 10 and report.complete and report.marked_sent
    assert handler.delivered() == {reader(i): 1 for i in range(10)}
    assert read_issue(seed_issue.path).status == "sent"
    ids = set()
    with open_subscribers(ready) as store:
        for delivery in handler.deliveries:
            message = message_from_bytes(delivery.raw, policy=default)
            token = store.token(delivery.rcpt)
            assert message["To"].addresses[0].addr_spec == delivery.rcpt
            assert message["To"].addresses[0].display_name.startswith("Reader ")
            url = UNSUBSCRIBE_URL.replace("{token}", token)
            assert f"<{url}>" in message["List-Unsubscribe"]
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert f'href="{url}"' in message.get_body(("html",)).get_content()
            assert url in message.get_body(("plain",)).get_content()
            ids.add(message["Message-ID"])
    assert len(ids) == 10


def test_a_personalised_copy_is_the_full_render_for_that_recipient(
    ready: Workspace, seed_issue: Issue
) -> None:
    with open_subscribers(ready) as store:
        token = store.token(reader(3))
    copy = message_from_bytes(
        Personaliser(ready, seed_issue).message(reader(3), "Reader 3", token), policy=default
    )
    full = message_from_bytes(render_email(ready, seed_issue, token=token).eml, policy=default)
    for kind in ("plain", "html"):
        assert copy.get_body((kind,)).get_content() == full.get_body((kind,)).get_content()
    for header in ("Subject", "From", "Message-ID", "List-Id", "List-Unsubscribe"):
        assert copy[header] == full[header]
    # The Message-ID is stable for the issue and recipient: a resend keeps it.
    again = Personaliser(ready, seed_issue).message(reader(3), "Reader 3", token)
    assert message_from_bytes(again)["Message-ID"] == copy["Message-ID"]


def test_a_copy_is_right_wherever_quoted_printable_breaks_a_line_inside_its_token(
    workspace: Workspace, seed_issue: Issue
) -> None:
    # Copies are filled into the message encoded once: as the URL grows a character at a
    # time, the text part's soft line break falls at every place inside the token.
    config = workspace.root / "sources.yaml"
    original = config.read_text()
    token = "Zz09" * 8
    for pad in range(33):
        url = f"https://example.org/u?pad={'p' * pad}&t={{token}}"
        config.write_text(
            original.replace("  note_label:", f'  unsubscribe_url: "{url}"\n  note_label:')
        )
        configured = load_workspace(workspace.root)
        raw = Personaliser(configured, seed_issue).message(reader(1), "Reader 1", token)
        copy = message_from_bytes(raw, policy=default)
        full = message_from_bytes(
            render_email(configured, seed_issue, token=token).eml, policy=default
        )
        for kind in ("plain", "html"):
            assert copy.get_body((kind,)).get_content() == full.get_body((kind,)).get_content()
        body = raw.split(b"\r\n\r\n", 1)[1]
        assert max(map(len, body.split(b"\r\n"))) <= 76  # quoted-printable's limit


def test_a_hostile_subscriber_name_cannot_add_a_header(ready: Workspace, seed_issue: Issue) -> None:
    raw = Personaliser(ready, seed_issue).message(
        reader(1), "Eve\r\nBcc: victim@example.net =?utf-8?q?=0D=0ABcc:_x@example.net?=", "a" * 32
    )
    message = message_from_bytes(raw, policy=default)
    assert message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == reader(1)


def test_550_fails_once_bounces_and_451_452_are_retried_and_delivered(
    ready: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, _ = relay
    handler.always[reader(1)] = "550"
    handler.always[reader(2)] = "554"  # refused by policy: failed, but the mailbox is fine
    handler.add(reader(3), "451")
    handler.add(reader(4), "452", "451")
    handler.add(reader(5), "drop-rcpt")  # connection lost before the message: reconnect, retry
    report = send_issue(ready, seed_issue)
    delivered = handler.delivered()
    assert {e.email for e in report.failed} == {reader(1), reader(2)}
    assert delivered[reader(1)] == 0 and delivered[reader(2)] == 0
    assert all(delivered[reader(i)] == 1 for i in (0, 3, 4, 5, 6, 7, 8, 9))
    assert status_of(ready, reader(1)) == "bounced"
    assert status_of(ready, reader(2)) == "active"
    assert report.complete and not report.unknown
    # Failed recipients are never retried by --resume; only --retry-failed does.
    handler.always.clear()
    send_issue(ready, seed_issue, SendOptions(resume=True))
    assert handler.delivered()[reader(2)] == 0
    send_issue(ready, seed_issue, SendOptions(retry_failed=True))
    assert handler.delivered()[reader(2)] == 1
    assert handler.delivered()[reader(1)] == 0  # bounced: no longer a subscriber to mail


def test_a_connection_lost_after_data_is_unknown_reported_and_never_resent_silently(
    ready: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, _ = relay
    handler.add(reader(4), "drop-after-store")
    handler.add(reader(6), "drop-before-store")
    report = send_issue(ready, seed_issue)
    assert {e.email for e in report.unknown} == {reader(4), reader(6)}
    assert handler.delivered()[reader(4)] == 1 and handler.delivered()[reader(6)] == 0
    assert read_issue(seed_issue.path).status == "sent"  # nobody is left to try
    resumed = run_cli("-w", str(ready.root), "send", seed_issue.slug, "--resume")
    assert resumed.returncode == 0
    assert f"unknown: {reader(4)}" in resumed.stdout and "--resend-unknown" in resumed.stdout
    assert handler.delivered()[reader(4)] == 1
    again = run_cli("-w", str(ready.root), "send", seed_issue.slug, "--resend-unknown")
    assert again.returncode == 0, again.stderr
    assert handler.delivered()[reader(4)] == 2 and handler.delivered()[reader(6)] == 1
    assert log_of(ready, seed_issue)[reader(4)] == "sent"


def test_unsubscribed_and_bounced_subscribers_get_nothing(
    ready: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, _ = relay
    with open_subscribers(ready) as store:
        store.unsubscribe(reader(0))
        store.set_status(reader(1), "bounced")
        store.set_status(reader(2), "complained")
        SendLog(store.db, seed_issue.slug).start()  # the send starts ...
        store.unsubscribe(store.token(reader(3)))  # ... and someone leaves before their turn
    report = send_issue(ready, seed_issue, SendOptions(resume=True))
    delivered = handler.delivered()
    assert not any(delivered[reader(i)] for i in range(4))
    assert all(delivered[reader(i)] == 1 for i in range(4, 10))
    assert report.counts["skipped"] == 1 and report.counts["sent"] == 6


def test_someone_who_leaves_while_the_message_before_theirs_is_read_gets_nothing(
    workspace: Workspace, seed_issue: Issue
) -> None:
    # The next copy is built while the relay reads the one before; leaving then still
    # counts, and the copy built for them goes to nobody else.
    class Leaving(FaultyRelay):
        def _store(self, rcpt: str, content: bytes) -> None:
            super()._store(rcpt, content)
            if rcpt.lower() == reader(1):
                with open_subscribers(configured) as store:
                    store.unsubscribe(reader(2))

    with running_relay(Leaving()) as (handler, port):
        configured = configure(workspace, port)
        subscribe(configured, 5)
        report = send_issue(configured, seed_issue)
    delivered = handler.delivered()
    assert delivered[reader(2)] == 0 and report.counts["skipped"] == 1
    assert all(delivered[reader(i)] == 1 for i in (0, 1, 3, 4))
    assert all(d.to.endswith(f"<{d.rcpt}>") for d in handler.deliveries)


def test_send_refuses_an_issue_failing_check_and_one_already_sent(
    ready: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, _ = relay
    story = seed_issue.stories[0]
    write_story(story.path, story.model_copy(update={"note": "TODO"}), force=True)
    broken = run_cli("-w", str(ready.root), "send", seed_issue.slug)
    assert broken.returncode == 1 and broken.stderr.count("\n") == 1
    assert "fails check" in broken.stderr and "TODO" in broken.stderr
    assert handler.count() == 0
    write_story(story.path, story, force=True)
    assert run_cli("-w", str(ready.root), "send", seed_issue.slug).returncode == 0
    again = run_cli("-w", str(ready.root), "send", seed_issue.slug)
    assert again.returncode == 1 and "already sent" in again.stderr and "--resume" in again.stderr
    resumed = run_cli("-w", str(ready.root), "send", seed_issue.slug, "--resume")
    assert resumed.returncode == 0 and "10 sent" in resumed.stdout
    assert handler.count() == 10


def test_an_issue_marked_sent_without_a_log_is_refused(ready: Workspace, seed_issue: Issue) -> None:
    from newsletter.editorial import write_issue

    write_issue(seed_issue.model_copy(update={"status": "sent"}), force=True)
    with pytest.raises(SendError, match="status: sent"):
        send_issue(ready, read_issue(seed_issue.path))


def test_to_sends_a_test_copy_only_and_overrides_the_relay_from_the_command_line(
    workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, port = relay
    configured = configure(workspace, 9)  # a port nothing listens on
    subscribe(configured, 3)
    ws = ("-w", str(configured.root))
    test = run_cli(
        *ws, "send", seed_issue.slug, "--to", "editor@example.org", "--smtp-port", str(port)
    )
    assert test.returncode == 0, test.stderr
    assert "editor@example.org: sent" in test.stdout
    assert handler.delivered() == {"editor@example.org": 1}
    assert read_issue(seed_issue.path).status == "ready"
    assert log_of(configured, seed_issue) == {}
    unreachable = run_cli(*ws, "send", seed_issue.slug, "--to", "editor@example.org")
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1
    assert "cannot use the relay 127.0.0.1:9" in unreachable.stderr


def test_the_password_comes_only_from_the_environment(
    workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int], monkeypatch
) -> None:
    configured = configure(workspace, relay[1], username="digest")
    monkeypatch.delenv("NEWSLETTER_SMTP_PASSWORD", raising=False)
    with pytest.raises(RelayError, match="NEWSLETTER_SMTP_PASSWORD"):
        send_test(configured, seed_issue, ["editor@example.org"])
    config = (configured.root / "sources.yaml").read_text()
    (configured.root / "sources.yaml").write_text(config + "  password: secret\n")
    with pytest.raises(Exception, match="password"):
        load_workspace(configured.root)


def test_4xx_until_the_retries_run_out_stays_deferred_and_resume_finishes(
    workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, port = relay
    configured = configure(workspace, port, retries=3)
    subscribe(configured, 3)
    handler.always[reader(1)] = "451"
    report = send_issue(configured, seed_issue)
    assert [e.email for e in report.deferred] == [reader(1)]
    assert not report.complete and read_issue(seed_issue.path).status == "ready"
    handler.always.clear()
    finished = send_issue(configured, seed_issue, SendOptions(resume=True))
    assert finished.complete and handler.delivered()[reader(1)] == 1
    assert read_issue(seed_issue.path).status == "sent"


def test_a_send_killed_midway_resumes_without_losing_or_repeating_anyone(
    workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, port = relay
    configured = configure(workspace, port)
    subscribe(configured, 40)
    handler.add(reader(20), "hang-after-store")  # delivered, then no answer: the window
    args = [sys.executable, "-m", "newsletter", "-w", str(configured.root), "send"]
    sender = subprocess.Popen([*args, seed_issue.slug], stdout=subprocess.DEVNULL)
    assert handler.hung.wait(60)
    os.kill(sender.pid, signal.SIGKILL)
    sender.wait()
    assert handler.count() == 21  # readers 0-20, reader 20 in the ambiguous window
    # A second send killed at an arbitrary point.
    second = subprocess.Popen([*args, seed_issue.slug, "--resume"], stdout=subprocess.DEVNULL)
    while handler.count() < 30 and second.poll() is None:
        time.sleep(0.001)
    os.kill(second.pid, signal.SIGKILL)
    second.wait()
    resumed = run_cli("-w", str(configured.root), "send", seed_issue.slug, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    log = log_of(configured, seed_issue)
    unknown = {email for email, status in log.items() if status == "unknown"}
    delivered = handler.delivered()
    assert reader(20) in unknown and f"unknown: {reader(20)}" in resumed.stdout
    assert all(delivered[reader(i)] >= 1 for i in range(40))  # nobody lost
    repeated = {email for email, n in delivered.items() if n > 1}
    assert repeated <= unknown  # duplicates only inside the ambiguous window, reported
    assert all(log[reader(i)] in ("sent", "unknown") for i in range(40))
    assert read_issue(seed_issue.path).status == "sent"


def test_smtp_settings_errors_are_one_line(ready: Workspace, seed_issue: Issue) -> None:
    config = ready.root / "sources.yaml"
    config.write_text(config.read_text() + "  final_reply_timeout: 5\n")
    result = run_cli("-w", str(ready.root), "send", seed_issue.slug)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "final_reply_timeout" in result.stderr


def test_a_long_unsubscribe_url_stays_one_readable_url_in_the_header(
    workspace: Workspace, seed_issue: Issue
) -> None:
    long_url = (
        "https://newsletters.example-organisation.org/a/long/path/unsubscribe?list=d&t={token}"
    )
    config = workspace.root / "sources.yaml"
    config.write_text(
        config.read_text().replace(
            "  note_label:", f'  unsubscribe_url: "{long_url}"\n  note_label:'
        )
    )
    configured = load_workspace(workspace.root)
    raw = Personaliser(configured, seed_issue).message(reader(1), "Reader 1", "c" * 32)
    header = message_from_bytes(raw, policy=default)["List-Unsubscribe"]
    assert f"<{long_url.replace('{token}', 'c' * 32)}>" in header and "=?" not in header


def test_a_send_that_never_reached_the_relay_starts_again_without_resume(
    workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    handler, port = relay
    configured = configure(workspace, 9)  # a port nothing listens on
    subscribe(configured, 3)
    ws = ("-w", str(configured.root))
    unreachable = run_cli(*ws, "send", seed_issue.slug)
    assert unreachable.returncode == 1 and "cannot use the relay" in unreachable.stderr
    assert set(log_of(configured, seed_issue).values()) == {"pending"}
    subscribe(configured, 4)  # one more subscribed meanwhile: they are included
    again = run_cli(*ws, "send", seed_issue.slug, "--smtp-port", str(port))
    assert again.returncode == 0, again.stderr
    assert handler.delivered() == {reader(i): 1 for i in range(4)}


def test_a_relay_without_starttls_says_which_setting_to_change(
    workspace: Workspace, seed_issue: Issue, relay: tuple[FaultyRelay, int]
) -> None:
    configured = configure(workspace, relay[1], security="starttls")
    subscribe(configured, 1)
    result = run_cli("-w", str(configured.root), "send", seed_issue.slug)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "smtp.security" in result.stderr and "security: none" in result.stderr
