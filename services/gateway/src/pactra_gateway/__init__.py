"""Pactra gateway: the edge of the platform (API keys, accounts, plans, usage and billing,
exports, workspace deletion) and its route to every service."""

# The name the gateway goes by on the bus, in its database name and in signed calls.
SERVICE = "gateway"
