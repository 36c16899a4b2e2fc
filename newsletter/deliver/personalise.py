"""One message per recipient without rendering the issue per recipient.

The issue is rendered once with a placeholder token; each recipient's copy replaces it
in the HTML and text (before quoted-printable encoding, which could split it) and is
built by `build_message` with its own To, unsubscribe headers and Message-ID, so every
copy goes through the same header checks as `email.eml`.
"""

from __future__ import annotations

import secrets
from email.headerregistry import Address

from newsletter.config import Workspace
from newsletter.deliver.mime import build_message
from newsletter.deliver.subscribers import TOKEN_LENGTH
from newsletter.deliver.unsubscribe import unsubscribe
from newsletter.errors import RenderError
from newsletter.models import Issue
from newsletter.render.email import message_key, render_email

__all__ = ["Personaliser"]


class Personaliser:
    """The issue rendered once, ready to be addressed to each recipient."""

    def __init__(self, workspace: Workspace, issue: Issue) -> None:
        self.workspace = workspace
        self.issue = issue
        # As long as a real token, and of the same characters, so text wrapping and
        # URL quoting treat both alike.
        self.placeholder = secrets.token_hex(TOKEN_LENGTH // 2)
        rendered = render_email(workspace, issue, token=self.placeholder)
        self.html = rendered.html
        self.text = rendered.text

    def message(self, email: str, name: str, token: str) -> bytes:
        """The issue's email for one recipient, as bytes ready to send."""
        if len(token) != len(self.placeholder) or not token.isalnum():
            raise RenderError("a recipient token must be 32 letters or digits", field=email)
        settings = self.workspace.settings
        return build_message(
            settings=settings,
            subject=self.issue.title,
            text=self.text.replace(self.placeholder, token),
            html=self.html.replace(self.placeholder, token),
            message_key=message_key(self.workspace, self.issue, token),
            unsubscribe=unsubscribe(settings, token),
            to=Address(display_name=name, addr_spec=email),
        )
