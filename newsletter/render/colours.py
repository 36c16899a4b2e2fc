"""Colour arithmetic for the email theme: tints of the brand colour and WCAG contrast."""

from __future__ import annotations

__all__ = ["contrast", "mix"]


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def mix(colour: str, other: str, weight: float) -> str:
    """`colour` moved `weight` (0..1) of the way towards `other`: `mix(brand, "#ffffff", 0.9)`
    is a pale tint of the brand colour."""
    channels = zip(_rgb(colour), _rgb(other), strict=True)
    return "#" + "".join(f"{round(a + (b - a) * weight):02x}" for a, b in channels)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio, 1 to 21; body text needs 4.5."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
