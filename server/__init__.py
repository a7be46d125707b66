"""Composition root and command line (`python -m server`)."""
