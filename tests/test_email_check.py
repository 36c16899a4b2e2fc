"""`check`'s email checks: each fails on a crafted bad issue and passes on the seed issue."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import REPO, run_cli
from test_email import ONE_CLICK, configure

from newsletter.config import Workspace
from newsletter.emailcheck import check_email, email_problems
from newsletter.models import Issue
from newsletter.render.email import render_email

THEME = (REPO / "templates" / "email" / "issue.mjml").read_text(encoding="utf-8")
LAST_COLUMN_END = "      </mj-column>\n    </mj-section>\n  </mj-body>"


def override_theme(workspace: Workspace, old: str, new: str) -> None:
    """The default theme with one change, as the workspace's own `email/issue.mjml`."""
    assert old in THEME
    own = workspace.root / "templates" / "email" / "issue.mjml"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(THEME.replace(old, new, 1), encoding="utf-8")


def messages(workspace: Workspace, issue: Issue) -> list[str]:
    return [f"{p.level}: {p.field}: {p.message}" for p in check_email(workspace, issue)]


def test_the_seed_issue_passes(workspace: Workspace, seed_issue: Issue) -> None:
    assert messages(configure(workspace, unsubscribe_url=ONE_CLICK), seed_issue) == []
    # without a one-click URL: a warning, not an error
    assert messages(workspace, seed_issue) == [
        "warning: newsletter.unsubscribe_url: not set: mailto unsubscribe only; "
        "Gmail and Yahoo want one-click https for bulk mail"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    <mj-style>\n",
            "    <mj-style>\n" + ".x { color: #123456; }\n" * 800,
            "error: email.html: <style> holds 19.4 KB: Gmail drops styles over 16 KB",
        ),
        (
            LAST_COLUMN_END,
            '<mj-image src="https://example.org/pixel.png" />\n' + LAST_COLUMN_END,
            "error: email.html: image https://example.org/pixel.png has no alt text",
        ),
        ('<mjml lang="{{ settings.language }}">', "<mjml>", "error: email.html: no lang"),
        (
            LAST_COLUMN_END,
            '<mj-button href="https://example.org/a\nb">Go</mj-button>\n' + LAST_COLUMN_END,
            'error: email.html: literal escape (\\n, \\" or \\u{) in <a href>',
        ),
        (
            ' · <a href="{{ unsubscribe }}">Unsubscribe</a>',
            "",
            "error: email.html: no unsubscribe link in the footer",
        ),
        ("<mjml", "<mjml><mj-body></mj-section>", "error: email: does not render: "),
    ],
    ids=["style-bytes", "alt", "lang", "escape", "unsubscribe-link", "broken"],
)
def test_each_html_check_fails_on_a_crafted_theme(
    workspace: Workspace, seed_issue: Issue, old: str, new: str, expected: str
) -> None:
    override_theme(workspace, old, new)
    found = messages(workspace, seed_issue)
    assert any(line.startswith(expected) for line in found), found


def test_size_budget_errors_above_90_kb_and_warns_above_60_kb(
    workspace: Workspace, seed_issue: Issue
) -> None:
    rendered = render_email(workspace, seed_issue)
    padding = 60 * 1024 - len(rendered.html.encode("utf-8"))

    def levels(extra: int) -> list[str]:
        html = rendered.html.replace("</body>", f"<p>{'x' * extra}</p></body>")
        problems = email_problems(replace(rendered, html=html), workspace.settings, None)
        return [f"{p.level} {p.message}" for p in problems if p.field == "email.html"]

    assert levels(padding - 100) == []
    assert levels(padding + 100)[0].startswith("warning 60 KB: over 60 KB")
    assert levels(padding + 31 * 1024)[0].startswith("error 91 KB: Gmail clips")


def test_missing_headers_and_empty_text_part_are_errors(
    workspace: Workspace, seed_issue: Issue
) -> None:
    workspace = configure(workspace, unsubscribe_url=ONE_CLICK)
    rendered = render_email(workspace, seed_issue)
    stripped = b"\r\n".join(
        line for line in rendered.eml.split(b"\r\n") if not line.startswith(b"List-")
    )
    bad = replace(rendered, eml=stripped, text=" \n")
    found = {p.message for p in email_problems(bad, workspace.settings, None)}
    assert {
        "no List-Unsubscribe header",
        "no List-Id header",
        "no List-Unsubscribe-Post header (RFC 8058 one-click)",
        "the plain-text part is empty",
    } <= found


def test_settings_warnings_name_the_setting(workspace: Workspace, seed_issue: Issue) -> None:
    workspace = configure(
        workspace, unsubscribe_url="https://example.org/u", brand_color='"#ffcc00"'
    )
    found = messages(workspace, seed_issue)
    assert "warning: newsletter.brand_color: #ffcc00 on white is hard to read" in found[0]
    assert found[1].startswith("warning: newsletter.unsubscribe_url: has no {token} slot")


def test_cli_check_fails_on_a_bad_email_and_names_the_issue(
    workspace: Workspace, seed_issue: Issue
) -> None:
    ok = run_cli("-w", str(workspace.root), "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    override_theme(workspace, '<mjml lang="{{ settings.language }}">', "<mjml>")
    bad = run_cli("-w", str(workspace.root), "check")
    assert bad.returncode == 1
    line = next(line for line in bad.stdout.splitlines() if "no lang" in line)
    assert line.startswith("error: ") and f"{seed_issue.slug}/issue.md: email.html:" in line
