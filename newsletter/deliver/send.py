"""`send`: an issue to every active subscriber through the SMTP relay, resumable.

The phases: refuse an issue that fails `check`; open the send log (start it, or resume
it after a crash); render once; deliver recipient by recipient, committing the log
around every transaction; retry deferred recipients with bounded backoff; mark the
issue `sent` once nobody is left to try.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr

from newsletter.check import check_issue, has_errors
from newsletter.config import SmtpSettings, Workspace
from newsletter.deliver.addresses import AddressProblem, normalise_address
from newsletter.deliver.personalise import Personaliser
from newsletter.deliver.sendlog import SendEntry, SendLog, SendStatus
from newsletter.deliver.smtp import Body, ConnectionLost, Relay, Reply
from newsletter.deliver.subscribers import Subscribers, open_subscribers
from newsletter.editorial import write_issue
from newsletter.emailcheck import check_email
from newsletter.errors import NewsletterError
from newsletter.models import Issue

__all__ = [
    "PASSWORD_VARIABLE",
    "SendError",
    "SendOptions",
    "SendReport",
    "TestResult",
    "send_issue",
    "send_test",
    "smtp_settings",
]

PASSWORD_VARIABLE = "NEWSLETTER_SMTP_PASSWORD"
Progress = Callable[[SendStatus], None]


class SendError(NewsletterError):
    """The issue cannot be sent as asked (fails check, already sent, no subscribers)."""


@dataclass(frozen=True)
class SendOptions:
    resume: bool = False
    retry_failed: bool = False
    resend_unknown: bool = False
    smtp_host: str | None = None
    smtp_port: int | None = None


@dataclass
class SendReport:
    """Where the send stands after this run: counts by status and who needs a look."""

    issue: str
    counts: dict[str, int]
    attempted: int = 0  # transactions this run
    seconds: float = 0.0
    unknown: list[SendEntry] = field(default_factory=list)
    failed: list[SendEntry] = field(default_factory=list)
    deferred: list[SendEntry] = field(default_factory=list)
    marked_sent: bool = False

    @property
    def complete(self) -> bool:
        return not any(self.counts[s] for s in ("pending", "sending", "deferred"))


@dataclass(frozen=True)
class TestResult:
    address: str
    status: SendStatus
    reply: str


def smtp_settings(
    workspace: Workspace, host: str | None = None, port: int | None = None
) -> SmtpSettings:
    """`sources.yaml`'s `smtp:` block with the command line's host and port over it."""
    base = workspace.config.smtp
    if base is None and host is None:
        raise SendError("no smtp: block in sources.yaml (or pass --smtp-host)", field="smtp.host")
    data = base.model_dump() if base else {"host": host}
    data |= {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    return SmtpSettings.model_validate(data)


def send_issue(
    workspace: Workspace,
    issue: Issue,
    options: SendOptions = SendOptions(),
    *,
    progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
) -> SendReport:
    """Send the issue to every active subscriber, or carry on an interrupted send."""
    refuse_failing_check(workspace, issue)
    settings = smtp_settings(workspace, options.smtp_host, options.smtp_port)
    started = time.monotonic()
    with open_subscribers(workspace) as store:
        log = SendLog(store.db, issue.slug)
        _prepare(log, issue, options)
        if on_start:
            counts = log.counts()
            on_start(counts["pending"] + counts["deferred"])
        copies = _Copies(Personaliser(workspace, issue), store)
        with _relay(workspace, settings) as relay:
            attempted = _deliver(log, relay, copies, settings, progress)
        report = _report(log, issue, attempted, time.monotonic() - started)
    if report.complete and issue.status != "sent":
        write_issue(issue.model_copy(update={"status": "sent"}), force=True)
        report.marked_sent = True
    return report


def send_test(
    workspace: Workspace,
    issue: Issue,
    addresses: list[str],
    *,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
) -> list[TestResult]:
    """Send the issue to chosen addresses only (a test): no send log, no status change."""
    refuse_failing_check(workspace, issue)
    try:
        checked = [normalise_address(address) for address in addresses]
    except AddressProblem as exc:
        raise SendError(str(exc), field="--to") from None
    settings = smtp_settings(workspace, smtp_host, smtp_port)
    personaliser = Personaliser(workspace, issue)
    results = []
    with open_subscribers(workspace) as store, _relay(workspace, settings) as relay:
        for address in checked:
            known = store.get(address)
            message = personaliser.message(
                address, known.name if known else "", store.token(address)
            )
            results.append(_test_one(relay, address, Body.of(message)))
    return results


def _test_one(relay: Relay, address: str, body: Body) -> TestResult:
    try:
        reply = relay.send(address, body, on_data=lambda: None)
    except ConnectionLost as lost:
        status: SendStatus = "unknown" if lost.after_data else "failed"
        return TestResult(address, status, f"connection lost: {lost}")
    status = "sent" if reply.accepted else "deferred" if reply.temporary else "failed"
    return TestResult(address, status, str(reply))


def refuse_failing_check(workspace: Workspace, issue: Issue) -> None:
    """An issue with `check` errors is never sent, not even as a test."""
    problems = check_issue(issue, workspace.settings) + check_email(workspace, issue)
    if has_errors(problems):
        first = next(p for p in problems if p.level == "error")
        errors = sum(p.level == "error" for p in problems)
        raise SendError(
            f"fails check with {errors} error(s), first: {first.field}: {first.message}; "
            f"run 'newsletter check {issue.slug}'",
            path=issue.path,
        )


def _relay(workspace: Workspace, settings: SmtpSettings) -> Relay:
    sender = parseaddr(workspace.settings.sender)[1]
    return Relay(settings, sender, os.environ.get(PASSWORD_VARIABLE) or None)


def _prepare(log: SendLog, issue: Issue, options: SendOptions) -> None:
    """Start the log, or, when this issue was sent or started before, carry on only
    when told to: --resume, --retry-failed or --resend-unknown."""
    carry_on = options.resume or options.retry_failed or options.resend_unknown
    if log.exists() and not log.untouched():
        if not carry_on:
            counts = ", ".join(f"{n} {s}" for s, n in log.counts().items() if n)
            raise SendError(
                f"already sent or started ({counts}); --resume carries on, --retry-failed "
                "retries failures, --resend-unknown resends the unknown",
                path=issue.path,
            )
        log.recover()
        if options.retry_failed:
            log.requeue("failed")
        if options.resend_unknown:
            log.requeue("unknown")
        return
    if issue.status == "sent":
        raise SendError(
            "issue.md says status: sent, and this workspace has no send log for it; "
            "set status: ready to send it",
            path=issue.path,
            field="status",
        )
    # A log nobody was tried from yet (the relay was unreachable) simply starts again,
    # taking in anyone who subscribed since.
    if not log.start() and not log.exists():
        raise SendError(
            "no active subscribers; add some with 'newsletter subscribers import FILE.csv'"
        )


class _Copies:
    """Each recipient's message, ready for DATA; the next one is built while the relay
    works on the one before, when the sender would only be waiting for its reply."""

    def __init__(self, personaliser: Personaliser, store: Subscribers) -> None:
        self.personaliser = personaliser
        self.store = store
        self._ahead: tuple[int, Body | NewsletterError] | None = None

    def build_ahead(self, entry: SendEntry) -> None:
        try:
            self._ahead = (entry.id, self._build(entry))
        except NewsletterError as exc:  # raised when its turn comes
            self._ahead = (entry.id, exc)

    def message(self, entry: SendEntry) -> Body:
        """The recipient's message; NewsletterError when it cannot be built."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] != entry.id:
            return self._build(entry)
        if isinstance(ahead[1], NewsletterError):
            raise ahead[1]
        return ahead[1]

    def _build(self, entry: SendEntry) -> Body:
        token = self.store.token(entry.email)
        return Body.of(self.personaliser.message(entry.email, entry.name, token))


def _deliver(
    log: SendLog,
    relay: Relay,
    copies: _Copies,
    settings: SmtpSettings,
    progress: Progress | None,
) -> int:
    """Try every due recipient, then wait for deferred ones, until none is left to try."""
    attempted = 0
    while True:
        batch = log.due(settings.retries)
        if not batch:
            wake = log.next_retry(settings.retries)
            if wake is None:
                return attempted
            time.sleep(min(max(0.0, wake - time.time()), settings.retry_max_delay))
            continue
        for entry, following in zip(batch, [*batch[1:], None], strict=True):
            status = _deliver_one(log, relay, copies, settings, entry, following)
            attempted += status != "skipped"
            if progress:
                progress(status)


def _deliver_one(
    log: SendLog,
    relay: Relay,
    copies: _Copies,
    settings: SmtpSettings,
    entry: SendEntry,
    following: SendEntry | None,
) -> SendStatus:
    """One recipient, one transaction; the log is committed before and after it.
    The `following` recipient's message is built while the relay reads this one."""
    if not log.begin(entry):
        return "skipped"
    try:
        message = copies.message(entry)
    except NewsletterError as exc:
        log.finish(entry, "failed", f"cannot build the message: {exc}")
        return "failed"
    meanwhile = (lambda: copies.build_ahead(following)) if following else None
    try:
        reply = relay.send(
            entry.email, message, on_data=lambda: log.data_sent(entry), meanwhile=meanwhile
        )
    except ConnectionLost as lost:
        if lost.after_data:  # delivered or not: only the relay knows, so never resend silently
            log.finish(entry, "unknown", f"connection lost after the message was sent: {lost}")
            return "unknown"
        # Nothing was delivered: retry at once on a new connection.
        log.finish(entry, "deferred", f"connection lost: {lost}", retry_at=time.time())
        return "deferred"
    except BaseException:
        log.release(entry)  # the relay is unreachable, or Ctrl-C: nothing went out
        raise
    return _record(log, entry, reply, settings)


def _record(log: SendLog, entry: SendEntry, reply: Reply, settings: SmtpSettings) -> SendStatus:
    if reply.accepted:
        log.finish(entry, "sent", str(reply))
        return "sent"
    if reply.temporary:
        delay = min(settings.retry_delay * 2 ** (entry.attempts), settings.retry_max_delay)
        log.finish(entry, "deferred", str(reply), retry_at=time.time() + delay)
        return "deferred"
    log.finish(entry, "failed", str(reply), bounce=reply.bad_mailbox)
    return "failed"


def _report(log: SendLog, issue: Issue, attempted: int, seconds: float) -> SendReport:
    return SendReport(
        issue=issue.slug,
        counts=log.counts(),
        attempted=attempted,
        seconds=seconds,
        unknown=log.entries("unknown"),
        failed=log.entries("failed"),
        deferred=log.entries("deferred"),
    )
