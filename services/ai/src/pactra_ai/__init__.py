"""Pactra ai service."""
