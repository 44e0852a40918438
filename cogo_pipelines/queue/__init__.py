"""The distributed job queue: Postgres ``jobs`` rows, leased claims, runners and their handlers.

At-least-once delivery, never a double completion: every state change is one guarded UPDATE
(status + lease owner) that also writes a ``job_events`` row.
"""
