"""The documents service's rules: plain Python, no framework (tests/unit/test_service_rooms.py)."""
