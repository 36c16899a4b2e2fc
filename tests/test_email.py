"""The email: theme and MRML work-arounds, text part, MIME headers, UTM links, settings."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import unescape

import pytest
from synthetic import synthetic_issue
from test_render import parsed

from newsletter.config import Workspace, load_workspace
from newsletter.deliver.mime import check_headers
from newsletter.digest import WIDTH, parse_digest
from newsletter.errors import ConfigError, RenderError
from newsletter.models import Issue
from newsletter.render.email import PREHEADER_PADDING, render_email
from newsletter.site.build import build_site

ONE_CLICK = "https://example.org/u?t={token}"


def configure(workspace: Workspace, **settings: str) -> Workspace:
    """The workspace with extra lines in its `newsletter:` block, read back from disk."""
    path = workspace.root / "sources.yaml"
    lines = "".join(f"  {key}: {value}\n" for key, value in settings.items())
    path.write_text(
        path.read_text(encoding="utf-8").replace("newsletter:\n", "newsletter:\n" + lines, 1),
        encoding="utf-8",
    )
    return load_workspace(workspace.root)


def test_ten_story_issue_renders_within_the_size_budget(workspace: Workspace) -> None:
    issue = synthetic_issue(10)
    html = render_email(workspace, issue).html
    assert len(html.encode("utf-8")) <= 60_000
    for story in issue.stories:
        assert story.title in html and (story.note or "")[:60] in html
    assert html.count('class="hl"') == 10 and html.count('class="note"') == 10


def test_theme_css_is_inlined_and_mrml_gaps_are_covered(
    workspace: Workspace, seed_issue: Issue
) -> None:
    html = render_email(workspace, seed_issue).html
    # <mj-style inline="inline"> ends up in style attributes, not in a <style> block
    assert re.search(r'<h2 class="hl" style="[^"]*font-size: 20px', html)
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
    assert "line-height: 1.3" not in styles and "padding: 8px 16px" not in styles
    assert "prefers-color-scheme: dark" in styles and "[data-ogsc]" in styles
    # Outlook's conditional comments survive the inliner
    assert "<!--[if mso | IE]>" in html and "<![endif]-->" in html
    # the body background is set on <mj-body> itself, where MRML honours it
    assert re.search(r"<body[^>]*background-color:#f4f4f2", html)
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "fonts.googleapis" not in html
    assert not re.search(r'="[^"]*(\\n|\\")', html)


def test_logo_gets_alt_text_and_links_home(workspace: Workspace, seed_issue: Issue) -> None:
    workspace = configure(workspace, logo="https://example.org/logo.png", brand_color='"#7a1f5c"')
    html = render_email(workspace, seed_issue).html
    img = re.search(r"<img [^>]*>", html)
    assert img and 'alt="SEA Tech Digest"' in img[0] and "https://example.org/logo.png" in img[0]
    assert "#7a1f5c" in html  # the brand colour reaches the links


def test_titles_with_newlines_and_quotes_leak_no_escapes(workspace: Workspace) -> None:
    issue = synthetic_issue(2)
    issue.stories[0].title = 'A "quoted"\ntwo-line title'
    html = render_email(workspace, issue).html
    assert 'aria-label="Read the story: A &quot;quoted&quot; two-line title"' in html
    assert "\\n" not in html and '\\"' not in html


def test_preheader_is_padded_so_body_text_stays_out_of_the_preview(
    workspace: Workspace, seed_issue: Issue
) -> None:
    html = render_email(workspace, seed_issue).html
    hidden = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', html, re.S)
    preview = unescape(hidden[1]) if hidden else ""
    assert preview.startswith(seed_issue.stories[0].title[:40])
    assert preview.endswith(PREHEADER_PADDING) and preview.count("\u200c") >= 80


def test_eml_carries_list_headers_and_parses_back(workspace: Workspace, seed_issue: Issue) -> None:
    workspace = configure(workspace, unsubscribe_url=ONE_CLICK, reply_to="editor@example.org")
    rendered = render_email(workspace, seed_issue, token="abc123")
    message = message_from_bytes(rendered.eml, policy=default)
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in message.iter_parts())
    assert message["List-Unsubscribe"] == (
        "<mailto:newsletter@example.org?subject=unsubscribe>, <https://example.org/u?t=abc123>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "SEA Tech Digest <sea-tech-digest.example.org>"
    assert message["Reply-To"] == "editor@example.org"
    assert message["MIME-Version"] == "1.0" and message["Date"] and message["Message-ID"]
    # the recipient's link is in both parts
    assert 'href="https://example.org/u?t=abc123"' in rendered.html
    assert "Unsubscribe: https://example.org/u?t=abc123" in rendered.text
    other = message_from_bytes(render_email(workspace, seed_issue, token="x").eml, policy=default)
    assert other["Message-ID"] != message["Message-ID"]


def test_without_one_click_url_the_mailto_is_used_and_no_post_header(
    workspace: Workspace, seed_issue: Issue
) -> None:
    rendered = render_email(workspace, seed_issue)
    message = message_from_bytes(rendered.eml, policy=default)
    assert message["List-Unsubscribe"] == "<mailto:newsletter@example.org?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] is None
    assert "mailto:newsletter@example.org?subject=unsubscribe" in parsed(rendered.html).hrefs


@pytest.mark.parametrize(
    "title",
    [
        "Weekly =?utf-8?q?hello=0D=0ABcc:_victim@example.com?= news",
        "Weekly\r\nBcc: victim@example.com\r\nX-Evil: 1",
        "=?utf-8?b?SGkNCkJjYzogdmljdGltQGV4YW1wbGUuY29t?=",
    ],
)
def test_hostile_titles_add_no_header(workspace: Workspace, title: str) -> None:
    issue = synthetic_issue(1).model_copy(update={"title": title})
    message = message_from_bytes(render_email(workspace, issue).eml, policy=default)
    names = {name.lower() for name in message}
    assert names == {
        "subject", "from", "date", "message-id", "mime-version", "content-type",
        "list-id", "list-unsubscribe",
    }  # fmt: skip
    assert "\n" not in message["Subject"] and "victim" not in str(message.get_all("Bcc"))


def test_a_message_with_an_unexpected_header_is_refused() -> None:
    message = EmailMessage()
    message["Subject"] = "x"
    message["Bcc"] = "victim@example.com"
    with pytest.raises(RenderError, match="unexpected: bcc"):
        check_headers(message.as_bytes(), {"subject"})


def test_text_part_reads_well_on_its_own(workspace: Workspace, seed_issue: Issue) -> None:
    text = render_email(workspace, seed_issue).text
    lines = text.splitlines()
    assert max(len(line) for line in lines if "://" not in line) <= WIDTH <= 78
    first = seed_issue.stories[0]
    assert f"{first.title}\n{'=' * len(first.title)}\n\n" in text  # headline set apart
    assert f"\n\n{first.url}\n\n" in text  # the link shown on its own line
    assert text.count("\n\nEditor’s Note: ") == 8
    assert "\n\n\n" not in text  # one blank line between paragraphs
    assert "Unsubscribe: mailto:newsletter@example.org?subject=unsubscribe" in text
    assert len(parse_digest(text).stories) == 8


def test_utm_parameters_are_off_by_default(workspace: Workspace) -> None:
    issue = synthetic_issue(2)
    hrefs = parsed(render_email(workspace, issue).html).hrefs
    assert issue.stories[0].url in hrefs
    assert not any("utm_" in href for href in hrefs)


def test_utm_parameters_go_on_email_links_only(workspace: Workspace, seed_issue: Issue) -> None:
    workspace = configure(workspace, unsubscribe_url=ONE_CLICK)
    utm = "  utm:\n    source: digest\n    campaign: issue-{number}\n"
    path = workspace.root / "sources.yaml"
    text = path.read_text(encoding="utf-8").replace("newsletter:\n", "newsletter:\n" + utm, 1)
    path.write_text(text, encoding="utf-8")
    workspace = load_workspace(workspace.root)
    rendered = render_email(workspace, seed_issue)
    hrefs = parsed(rendered.html).hrefs
    story = seed_issue.stories[0].url
    assert f"{story}?utm_source=digest&utm_medium=email&utm_campaign=issue-1" in hrefs
    assert "https://example.org/u?t=" in hrefs  # the unsubscribe link is left alone
    assert f"{story}\n" in rendered.text  # the text part keeps clean links for `import`
    site = build_site(workspace).parent
    assert not any("utm_" in p.read_text(encoding="utf-8") for p in site.rglob("*.html"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("brand_color", "blue", "colour"),
        ("unsubscribe_url", "http://example.org/u", "https"),
        ("logo", "logo.png", "http"),
        ("unsubscribe_mailto", "not-an-address", "email address"),
        ("brand_colour", '"#000000"', "Extra inputs"),
    ],
)
def test_bad_email_settings_are_located_errors(
    workspace: Workspace, key: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        configure(workspace, **{key: value})
    assert error.value.field == f"newsletter.{key}" and error.value.line == 3


def test_token_slot_is_left_empty_in_the_issue_wide_render(
    workspace: Workspace, seed_issue: Issue
) -> None:
    workspace = configure(workspace, unsubscribe_url=ONE_CLICK)
    rendered = render_email(workspace, seed_issue)
    assert rendered.unsubscribe.url == "https://example.org/u?t="
    assert "{token}" not in rendered.html and "{token}" not in rendered.text


def test_dates_and_sources_show_under_each_headline(workspace: Workspace) -> None:
    issue = synthetic_issue(1, date=dt.date(2025, 3, 9))
    html = render_email(workspace, issue).html
    assert re.search(r'<p class="meta"[^>]*>Example News · 9 March 2025</p>', html)
    assert "Read the story →" in html and "View in browser" in html
