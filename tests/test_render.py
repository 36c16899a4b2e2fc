"""`render` and `build`: the email in three forms and the archive site."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

import html5lib
from conftest import SEED_DIGEST, run_cli

from newsletter.config import Workspace
from newsletter.digest import parse_digest
from newsletter.drafting import import_digest
from newsletter.editorial import new_issue, read_issue
from newsletter.models import Issue
from newsletter.render.email import render_email, write_email
from newsletter.render.markdown import to_html
from newsletter.site.build import build_site


class Links(HTMLParser):
    """Every href and the document's lang, as a browser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "html":
            self.lang = values.get("lang")


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def test_email_html_holds_every_headline_note_and_link(
    workspace: Workspace, seed_issue: Issue
) -> None:
    paths = write_email(workspace, seed_issue)
    html = paths["html"].read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 60_000
    assert html.count("Editor’s Note") == 8
    for story in seed_issue.stories:
        assert story.title in html
        assert (story.note or "")[:80] in html
    story_urls = {story.url for story in seed_issue.stories if story.url}
    assert len(story_urls) == 7
    assert story_urls <= set(parsed(html).hrefs)
    assert parsed(html).lang == "en"
    assert "fonts.googleapis" not in html  # nothing loads from third parties


def test_text_part_imports_back_into_the_same_stories(
    workspace: Workspace, seed_issue: Issue
) -> None:
    text = write_email(workspace, seed_issue)["txt"].read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 78
    path = workspace.root / "email.txt"
    path.write_text(text, encoding="utf-8")
    again = import_digest(workspace, path, date=dt.date(2025, 7, 1))
    assert [s.title for s in again.stories] == [s.title for s in seed_issue.stories]
    for before, after in zip(seed_issue.stories, again.stories, strict=True):
        assert (after.summary, after.url, after.note) == (before.summary, before.url, before.note)
    assert again.title == seed_issue.title


def test_eml_is_multipart_alternative_text_first(workspace: Workspace, seed_issue: Issue) -> None:
    eml = write_email(workspace, seed_issue)["eml"].read_bytes()
    message = message_from_bytes(eml, policy=default)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert message["Subject"] == seed_issue.title
    assert message["From"].addresses[0].addr_spec == "newsletter@example.org"
    assert message["Date"] and re.fullmatch(r"<[0-9a-f]{24}@example\.org>", message["Message-ID"])
    assert "฿95.1 billion" in parts[0].get_content()
    assert seed_issue.stories[0].title in parts[1].get_content()
    # the preheader is the first thing an inbox shows
    assert 'style="display:none' in parts[1].get_content()


def test_hostile_title_adds_no_header(workspace: Workspace) -> None:
    issue = new_issue(workspace, date=dt.date(2025, 3, 1), title="x")
    issue = issue.model_copy(
        update={"title": "Hi\r\nBcc: victim@example.com =?utf-8?q?a=0D=0AX: y?="}
    )
    message = message_from_bytes(render_email(workspace, issue).eml, policy=default)
    assert message["Bcc"] is None and message["X"] is None
    assert "\n" not in message["Subject"]


def test_markdown_is_sanitised() -> None:
    html = to_html('Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src="http://t/p">')
    assert "<script" not in html and "javascript:" not in html and "<img" not in html


def test_site_index_links_issue_pages_newest_first(workspace: Workspace, seed_issue: Issue) -> None:
    later = workspace.root / "later.txt"
    later.write_text("A later story\nBody.\nEditor’s Note: Later.\n", encoding="utf-8")
    import_digest(workspace, later, date=dt.date(2025, 7, 1), title="Later issue")
    draft = new_issue(workspace, date=dt.date(2025, 8, 1), title="Unfinished draft")
    index = build_site(workspace)
    html = index.read_text(encoding="utf-8")
    links = parsed(html)
    assert links.lang == "en" and html.startswith("<!doctype html>")
    assert '<meta name="viewport"' in html
    # Issue pages (the latest issue's stories link to their own pages, one folder deeper).
    issue_links = [h for h in links.hrefs if re.fullmatch(r"issues/[^/]+\.html", h)]
    assert issue_links == ["issues/2025-07-01-later-issue.html", f"issues/{seed_issue.slug}.html"]
    assert draft.title not in html  # drafts stay private unless --drafts
    page = (index.parent / issue_links[1]).read_text(encoding="utf-8")
    for story in seed_issue.stories:
        assert f'id="{story.anchor}"' in page and f'href="#{story.anchor}"' in page
        assert story.title in page
    assert page.count('<aside class="note"') == 8
    assert 'href="../style.css"' in page and (index.parent / "style.css").is_file()
    for html_file in index.parent.rglob("*.html"):  # valid HTML5: a strict parser accepts it
        html5lib.HTMLParser(strict=True).parse(html_file.read_text(encoding="utf-8"))


def test_workspace_templates_override_the_default_theme(
    workspace: Workspace, seed_issue: Issue
) -> None:
    own = workspace.root / "templates" / "email" / "issue.mjml"
    own.parent.mkdir(parents=True)
    own.write_text(
        '<mjml lang="{{ settings.language }}"><mj-body><mj-section><mj-column>'
        "<mj-text>Our own theme: {{ issue.title }}</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>",
        encoding="utf-8",
    )
    html = render_email(workspace, seed_issue).html
    assert f"Our own theme: {seed_issue.title}" in html
    own.unlink()
    assert "Our own theme" not in render_email(workspace, seed_issue).html


def test_cli_end_to_end_in_a_new_workspace(tmp_path) -> None:
    root = tmp_path / "digest"
    seed = str(SEED_DIGEST)
    for args in (("init", str(root)), ("-w", str(root), "import", seed, "--date", "2025-06-20")):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
    rendered = run_cli("render", cwd=root)  # the workspace is found from the current folder
    assert rendered.returncode == 0, rendered.stderr
    html_path = Path(next(p for p in rendered.stdout.splitlines() if p.endswith(".html")))
    html = html_path.read_text(encoding="utf-8")
    issue = read_issue(next((root / "issues").iterdir()))
    assert all(story.title in html for story in issue.stories)
    built = run_cli("build", cwd=root)
    assert built.returncode == 0, built.stderr
    index = Path(built.stdout.strip())
    assert f'href="issues/{issue.slug}.html"' in index.read_text(encoding="utf-8")
    text = html_path.with_suffix(".txt").read_text(encoding="utf-8")
    assert len(parse_digest(text).stories) == 8


def test_broken_template_is_one_line_error(workspace: Workspace, seed_issue: Issue) -> None:
    own = workspace.root / "templates" / "email" / "issue.mjml"
    own.parent.mkdir(parents=True)
    own.write_text("<mjml><mj-body><mj-section></mj-body></mjml>", encoding="utf-8")
    result = run_cli("-w", str(workspace.root), "render")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: email/issue.mjml: MJML did not compile:")
