"""Building and sending messages."""
