"""Pactra receipts service."""
