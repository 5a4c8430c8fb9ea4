"""Notify's rules, in plain Python: who may be emailed about an agreement, where test-mode
email may go, what a provider's report changes, and what webhook endpoints and deliveries may
do. No Flask, SQLAlchemy or broker here (tests/unit/test_service_rooms.py holds to it)."""
