"""The v1 API's request and response bodies (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Base64 = str  # standard base64 (RFC 4648 §4)


class FindingModel(BaseModel):
    field: str
    rule: str
    message: str
    clause: str = ""
    severity: str = "error"


class Submission(BaseModel):
    """An application (the application file's JSON) with its images inline; the application's
    `portrait` and `signature` name keys of `images`."""

    model_config = ConfigDict(extra="forbid")
    application: dict[str, Any]
    images: dict[str, Base64] = Field(default_factory=dict, max_length=4)


class DocumentRef(BaseModel):
    number: str
    state: str


class ApplicationSummary(BaseModel):
    id: int
    key: str
    state: str
    format: str
    submitted_by: str
    submitted_at: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    replaces: str | None
    findings: list[FindingModel]
    documents: list[DocumentRef]


class Submitted(BaseModel):
    id: int
    state: str
    findings: list[FindingModel]


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    next_cursor: str | None


class ApplicationDetail(ApplicationSummary):
    application: dict[str, Any]  # personal data: the stored application
    images: dict[str, Base64]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    formats: list[Literal["TD1", "TD2", "TD3", "MRV-A", "MRV-B"]] = Field(min_length=1, max_length=5)
    public_key: str = Field(description="The station's X25519 public key, base64url (32 bytes)",
                            min_length=43, max_length=44)


class ClaimResponse(BaseModel):
    job: int
    attempt: int
    lease_expires_at: str
    number: str
    chip_profile: str
    can: str | None
    files: dict[str, Base64] = Field(description="The chip's LDS files by short name (EF.COM, DG1, ..., EF.SOD)")
    keys: str = Field(description="The per-document chip keys sealed for the station (HPKE, base64url)")
    key_info: str
    page: dict[str, Base64] = Field(description="page.png, page.pdf, seal.png, as made")
    receipt: dict[str, Any]


class Lease(BaseModel):
    job: int
    lease_expires_at: str


class CheckModel(BaseModel):
    name: str = Field(max_length=64)
    status: str = Field(max_length=32)
    detail: str = Field(default="", max_length=2000)


class ChipReport(BaseModel):
    """The personalisation report of `mrtd.chip.perso` as the station made it."""

    model_config = ConfigDict(extra="allow")
    profile: str = Field(max_length=64)
    status: Literal["personalised", "failed", "spoiled"]
    access: str = Field(default="?", max_length=16)
    checks: list[CheckModel] = Field(default_factory=list, max_length=50)


class ChipResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: ChipReport
    files: dict[str, Base64] = Field(description="Every file read back from the chip, by short name")
    reader: str = Field(default="station", max_length=128)


class PrintCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pass", "fail", "skipped", "not-applicable"]
    detail: str = Field(default="", max_length=500)


class JobResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chip: ChipResult | None = None
    print_check: PrintCheck | None = None


class JobOutcome(BaseModel):
    job: int
    number: str
    state: Literal["issued", "spoiled"]
    message: str
    receipt: dict[str, Any] | None


class EventModel(BaseModel):
    id: int
    at: str
    from_state: str | None
    to_state: str
    actor: str
    detail: Any
    audit_seq: int


class DocumentDetail(BaseModel):
    number: str
    state: str
    application_id: int
    application_key: str
    sequence_key: str
    created_at: str
    state_changed_at: str
    chip: dict[str, Any] | None
    seals: list[dict[str, Any]]
    events: list[EventModel]


class Replacement(BaseModel):
    """Changes laid over the stored application (objects merge key by key; null removes a key), and new
    images by kind (`portrait`, `signature`) when they changed."""

    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] = Field(default_factory=dict)
    images: dict[Literal["portrait", "signature"], Base64] = Field(default_factory=dict)


class ReprintResult(BaseModel):
    number: str
    files: dict[str, Base64]
    sha256: dict[str, str]
    audit_seq: int


class PersonMatch(BaseModel):
    application_id: int
    state: str
    primary_identifier: str
    secondary_identifier: str
    name_in_national_characters: str
    date_of_birth: str | None
    nationality: str
    documents: list[DocumentRef]


class SearchResult(BaseModel):
    items: list[PersonMatch]


class SealVerdict(BaseModel):
    model_config = ConfigDict(extra="allow")
    ok: bool
    verdict: str


class AuditEntryModel(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: Any
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryModel]
    next_after: int | None


class WhoAmI(BaseModel):
    name: str
    role: str | None


class Health(BaseModel):
    status: Literal["ok"]
    records: str


class StatusQuestion(BaseModel):
    """The MRZ's fields, as printed on the document (dates as YYYY-MM-DD, XX for an unknown part)."""

    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=9, pattern="^[A-Za-z0-9]+$")
    date_of_birth: str = Field(pattern="^[0-9X]{4}-[0-9X]{2}-[0-9X]{2}$")
    date_of_expiry: str = Field(pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class StatusAnswer(BaseModel):
    status: Literal["valid", "expired", "voided", "reported-lost", "reported-stolen", "unknown"]
