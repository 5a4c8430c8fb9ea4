"""Pactra notify service."""
