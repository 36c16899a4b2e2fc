"""YAML reading with errors that name the file, line and field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from newsletter.errors import NewsletterError

__all__ = ["load_yaml", "validate"]

M = TypeVar("M", bound=BaseModel)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C loader is ~7x faster


def load_yaml(text: str, path: Path, *, error: type[NewsletterError], line_offset: int = 0) -> Any:
    """Safe-load YAML; a syntax error names the file and line."""
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        raise error(f"invalid YAML: {exc.problem or exc}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", path=path) from None
    except ValueError as exc:  # a well-formed but impossible date such as 2025-13-45
        line = _bad_timestamp_line(text)
        raise error(
            f"invalid date: {exc}", path=path, line=None if line is None else line + line_offset
        ) from None


def _bad_timestamp_line(text: str) -> int | None:
    """1-based line of the first date-like scalar that is not a real date."""
    nodes = [yaml.compose(text, Loader=Loader)]
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":timestamp"):
            try:
                yaml.load(node.value, Loader=Loader)
            except ValueError:
                return node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode):
            nodes.extend(value for _, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            nodes.extend(node.value)
    return None


def validate(
    model: type[M],
    data: Any,
    *,
    path: Path,
    text: str,
    error: type[NewsletterError],
    line_offset: int = 0,
    prefix: Sequence[str | int] = (),
) -> M:
    """`model.model_validate(data)`, turning the first failure into a located error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = (*prefix, *first["loc"])
        more = len(exc.errors()) - 1
        message = first["msg"] + (f" (and {more} more)" if more else "")
        line = _line_of(text, loc)
        raise error(
            message,
            path=path,
            line=None if line is None else line + line_offset,
            field=".".join(str(part) for part in loc) or None,
        ) from None


def _line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node else None
    for key in loc:
        node = _child(node, key)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None
