"""Plumbing every Pactra service shares: settings, database, outbox/inbox, bus, internal auth,
logging and the HTTP app skeleton. Nothing here knows any service's domain."""
