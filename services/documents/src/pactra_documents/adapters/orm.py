"""The documents service's tables: documents and which agreements use them. Rows, not the
domain's entities: ``adapters/repository.py`` turns one into the other."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base


class DocumentRow(Base):
    """An uploaded PDF's metadata (``domain.model.Document``); its bytes and extracted text
    live encrypted in the bucket."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    # [[width, height], ...] in PDF points per page, as displayed; None for a document
    # uploaded before sizes were recorded.
    page_sizes: Mapped[list | None] = mapped_column(JSONB)
    created_at: Mapped[datetime]
    # False when uploaded with a test key (api.md, "Test mode"): seen only by test keys.
    livemode: Mapped[bool] = mapped_column(default=True, server_default=true())

    __table_args__ = (Index("ix_documents_workspace_created", "workspace_id", "created_at"),)


class AgreementUseRow(Base):
    """One agreement's hold on a document (``domain.model.AgreementUse``)."""

    __tablename__ = "agreement_uses"

    agreement_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(String(40))
    document_id: Mapped[str | None] = mapped_column(String(40))
    # Released: the agreement's evidence is settled (receipt.issued, or a receipt.failed not
    # retried by itself), so the document may be deleted.
    ended: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_agreement_uses_document", "document_id"),)
