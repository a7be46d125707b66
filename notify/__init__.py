"""Telling people: subscribe-message consent, the event catalogue, the outbox (written in the caller's
transaction) that doubles as everyone's in-app inbox, and the bookkeeping of periodic jobs."""
