"""The seal of ``signed.pdf``: the active sealing identity (seal_store.py), pyHanko's PAdES
signature (sealing.py) and, when a TSA is configured, its RFC 3161 timestamp; a failing TSA
is told apart from every other failure (:class:`TsaUnavailable`)."""

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from pactra_contracts.times import format_time

from ..config import ReceiptsSettings
from ..domain.errors import TsaUnavailable
from .seal_store import active_identity
from .sealing import Sealed, is_tsa_failure, seal, timestamp_time


@dataclass(frozen=True)
class Sealer:
    sessions: sessionmaker
    settings: ReceiptsSettings

    def __call__(self, pdf: bytes, tsa_url: str | None) -> Sealed:
        identity = active_identity(self.sessions, self.settings.master_key, self.settings)
        try:
            sealed = seal(pdf, identity, tsa_url=tsa_url, tsa_timeout=self.settings.tsa_timeout_seconds)
        except Exception as exc:
            if tsa_url and is_tsa_failure(exc):
                raise TsaUnavailable(f"the TSA at {tsa_url} failed: {exc}") from exc
            raise
        if not tsa_url:
            return Sealed(sealed, None)
        at = timestamp_time(sealed)
        if at is None:
            raise TsaUnavailable(f"the TSA at {tsa_url} gave no timestamp token")
        return Sealed(sealed, {"tsa": tsa_url, "time": format_time(at)})
