"""Pactra's documents service: uploaded PDFs, kept encrypted, served back, deleted when unused."""

# The producer of its events, the name of its database, bucket, queues and signing key.
SERVICE = "documents"
