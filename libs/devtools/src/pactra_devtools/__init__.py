"""Tools for running Pactra on a development machine and in its tests (not for production)."""
