"""Notify's adapters: its tables and repositories, the email backends, the webhook sender and
scheduler, the peers it asks, and the keys it opens links and secrets with."""
