"""Pactra documents service."""
