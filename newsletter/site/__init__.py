"""The archive website: read, model, write, index and check `build/site/`."""
