"""The structured answer the model must give; anything else is rejected and asked again."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ....domain.clause_types import CLAUSE_TYPES

ClauseType = Literal[CLAUSE_TYPES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class QuotedClause(_Strict):
    type: ClauseType
    text: str = Field(min_length=1, max_length=4000)
    confidence: float = Field(default=0.7, ge=0, le=1)


class SummaryParts(_Strict):
    parties: list[str] = Field(default_factory=list, max_length=20)
    purpose: str = Field(default="", max_length=400)
    key_dates: list[str] = Field(default_factory=list, max_length=20)
    money: list[str] = Field(default_factory=list, max_length=20)
    term_and_termination: str = Field(default="", max_length=400)
    obligations: list[str] = Field(default_factory=list, max_length=20)
    risks: list[str] = Field(default_factory=list, max_length=20)


class ChunkAnswer(_Strict):
    summary: SummaryParts
    clauses: list[QuotedClause] = Field(default_factory=list, max_length=200)


def json_schema() -> dict:
    return ChunkAnswer.model_json_schema()
