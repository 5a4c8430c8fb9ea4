"""The services that make up Pactra and where each one's HTTP API listens by default.

A contract between the services, as the event catalogue is: the gateway forwards to a
service's port, internal calls are signed for a service's name, and each service has its own
database, broker user and queues under that name. ``pactra_platform`` reads this list rather
than naming any service itself; the Procfile (which ``pactra_devtools.process_table`` parses for
the local run, the test stack, ``make docs`` and the benchmark) runs the same names, and a test
holds the two together.
"""

# In the order `pactra-migrate` sets them up and the test stack starts them.
SERVICES: tuple[str, ...] = ("gateway", "documents", "signing", "receipts", "notify", "ai")

# PACTRA_<SERVICE>_PORT overrides each (architecture.md). The gateway's is the port nginx
# forwards to; the public port (PACTRA_PUBLIC_PORT, 8080) is nginx's.
DEFAULT_PORTS: dict[str, int] = {
    "gateway": 8090, "documents": 8081, "signing": 8082,
    "receipts": 8083, "notify": 8084, "ai": 8085,
}
