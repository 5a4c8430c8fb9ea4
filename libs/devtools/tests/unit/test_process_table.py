"""The Procfile is the one list of processes, and it runs the services pactra_contracts lists."""

import re

from pactra_contracts.services import DEFAULT_PORTS, SERVICES
from pactra_devtools import process_table


def test_the_procfile_runs_every_service_and_only_those() -> None:
    assert process_table.services() == SERVICES
    for service in SERVICES:
        assert process_table.process(service).role == "api"
        assert process_table.process(f"{service}-worker").module == f"pactra_{service}.entrypoints.worker"


def test_the_procfile_defaults_are_the_catalogue_ports() -> None:
    for service in SERVICES:
        command = process_table.process(service).command
        default = re.search(r"\$\{PACTRA_" + service.upper() + r"_PORT:-(\d+)\}", command)
        assert default is not None and int(default[1]) == DEFAULT_PORTS[service], command


def test_background_processes_and_infrastructure_are_told_apart() -> None:
    issuer = process_table.process("receipts-issuer")
    assert (issuer.service, issuer.role, issuer.module) == ("receipts", "issuer",
                                                            "pactra_receipts.entrypoints.issuer")
    names = {entry.name for entry in process_table.processes()}
    assert not names & process_table.INFRASTRUCTURE
    assert set(process_table.procfile()) >= process_table.INFRASTRUCTURE
