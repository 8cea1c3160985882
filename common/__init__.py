"""Cross-cutting pieces every service needs once: config, db, errors, auth, idempotency, jobs.

Nothing here knows about stock, orders or labels, and nothing here imports a service.
"""
