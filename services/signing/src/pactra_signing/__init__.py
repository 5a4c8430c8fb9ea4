"""Pactra signing service."""
