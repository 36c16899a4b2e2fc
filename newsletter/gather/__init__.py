"""Gathering: fetch sources, parse them into entries, store them in the inbox."""
