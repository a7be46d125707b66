"""Append-only, hash-chained audit log: one chain per stream (a compound, a motion, ...)."""
