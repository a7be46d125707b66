"""The small shared core every package may use: errors, clock, money/area types, JSON, cache protocol."""
