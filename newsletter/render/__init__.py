"""Turning issues into HTML, text and MIME output."""
