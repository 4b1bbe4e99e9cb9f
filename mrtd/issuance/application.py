"""Application intake: a JSON application (or its dict form) -> `model.Application`, or every problem at once.

Checks run in three passes and all their findings are returned together:
1. the JSON Schema shipped beside this module (`application.schema.json`), its errors translated into
   field paths and rule names (`holder.sex`, `enum`);
2. field rules: real dates, known three-letter codes, plain text;
3. rules across fields, only on what passed 1 and 2: expiry after issue, birth before issue, the
   document code for the format and dates, the whole MRZ buildable (names transliterable), the Latin
   forms for the VIZ (given only for what is written in another script; required for a place of birth
   in another script), and the portrait, signature and finger images present and sane; the portrait also
   passes the photo checks (`mrtd.issuance.photo`: one face, both eyes, resolution, tilt, exposure,
   sharpness are errors; its framing and background are warnings).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from mrtd.errors import Finding, InputError, Severity, ValidationError
from mrtd.issuance.images import check_image
from mrtd.issuance.photo import PhotoChecks, PhotoReport, check_photo
from mrtd.limits import read_file
from mrtd.model import Application, Document, DocumentCode, DocumentFormat, Holder, PartialDate, Sex
from mrtd.mrz import NameOptions, record_from_document
from mrtd.mrz.codes import check_document_code, check_state

MAX_APPLICATION_BYTES = 1024 * 1024
ROOT = "application"  # the field named by findings about the application as a whole

# Stand-in used only to check that the MRZ can be built before a number is allocated (9 characters fit
# every format's number field).
_PLACEHOLDER_NUMBER = "X00000000"


@dataclass(frozen=True, slots=True)
class CheckedApplication:
    """The outcome of checking one application: the application when no finding is an error, and all findings."""

    application: Application | None
    findings: tuple[Finding, ...]
    photo: PhotoReport | None = None  # the portrait's photo check, when it was made

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is not Severity.ERROR)


@cache
def schema() -> dict[str, Any]:
    """The application JSON Schema (draft 2020-12), as shipped in the package."""
    text = resources.files("mrtd.issuance").joinpath("application.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


@cache
def _field_order() -> dict[str, int]:
    """Field paths in the schema's order, so that findings come out as a reader scans the form."""
    s = schema()
    order: list[str] = []
    for top, sub in s["properties"].items():
        order.append(top)
        ref = sub.get("$ref", "")
        if ref.startswith("#/$defs/") and "properties" in s["$defs"][ref[8:]]:
            order.extend(f"{top}.{k}" for k in s["$defs"][ref[8:]]["properties"])
    return {p: i for i, p in enumerate(order)}


# -- reading ----------------------------------------------------------------------------------------------


def read_application(
    path: Path, *, names: NameOptions | None = None, today: dt.date | None = None
) -> Application:
    """Read, check and return the application in the JSON file `path`.

    Image paths resolve against the file's folder. Raises `ValidationError` carrying every error finding.
    `today`, when given, also refuses a document that would already have expired.
    """
    checked = check_application_file(path, names=names, today=today)
    return _or_raise(checked, str(path))


def application_from_dict(
    data: Mapping[str, object],
    base_dir: Path,
    source: str,
    *,
    names: NameOptions | None = None,
    today: dt.date | None = None,
    photos: PhotoChecks | None = None,
) -> Application:
    """Check an application given as parsed JSON; image paths resolve against `base_dir`.

    Raises `ValidationError` (with `source` and every error finding) when anything is wrong.
    """
    return _or_raise(check_application(data, base_dir, source, names=names, today=today, photos=photos), source)


def check_application_file(
    path: Path, *, names: NameOptions | None = None, today: dt.date | None = None
) -> CheckedApplication:
    """Like `read_application`, but returns the findings (warnings too) instead of raising."""
    try:
        raw = read_file(path, "application", MAX_APPLICATION_BYTES)
    except InputError as exc:
        rule = "too-large" if "over the limit" in str(exc) else "unreadable"
        return _failed(Finding(ROOT, rule, str(exc)))
    try:
        data = parse_json(raw)
    except ValidationError as exc:
        return CheckedApplication(None, exc.findings)
    return check_application(data, path.parent, str(path), names=names, today=today)


def parse_json(raw: bytes) -> object:
    """Decode one JSON text strictly: UTF-8, no duplicate keys, no NaN/Infinity. Raises `ValidationError`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError([Finding(ROOT, "not-utf8", f"byte {exc.start} is not UTF-8")]) from None
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicates, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise ValidationError([Finding(ROOT, "duplicate-key", f"key {exc.key!r} appears twice in one object")]) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(
            [Finding(ROOT, "not-json", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        raise ValidationError([Finding(ROOT, "not-json", f"not JSON: {exc}")]) from None
    except RecursionError:
        raise ValidationError([Finding(ROOT, "too-deep", "nests objects or arrays too deeply")]) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key would silently keep the last value; for an identity document that is ambiguity.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _failed(finding: Finding) -> CheckedApplication:
    return CheckedApplication(None, (finding,))


def _or_raise(checked: CheckedApplication, source: str) -> Application:
    if checked.application is None or checked.errors:
        raise ValidationError(checked.errors or checked.findings, source=source)
    return checked.application


# -- checking ---------------------------------------------------------------------------------------------


_BAD = object()  # a field that already has a finding: later rules skip it


def check_application(
    data: object,
    base_dir: Path,
    source: str = "",
    *,
    names: NameOptions | None = None,
    today: dt.date | None = None,
    photos: PhotoChecks | None = None,
) -> CheckedApplication:
    """Every finding about `data` (parsed JSON), and the application when none of them is an error.
    `photos`: photo checks already made of the portrait (by its SHA-256), not made again."""
    findings = _Findings()
    bad = findings.extend_schema(_validator().iter_errors(data))
    if not isinstance(data, Mapping):
        return CheckedApplication(None, findings.sorted())
    intake = _Intake(data, bad, findings)
    document = intake.document(names or NameOptions(), today)
    portrait = intake.image("portrait", base_dir, photos)
    signature = intake.image("signature", base_dir)
    fingerprints = intake.fingerprints(base_dir)
    if document is None or portrait is _BAD or signature is _BAD or findings.has_errors():
        return CheckedApplication(None, findings.sorted(), intake.photo)
    extra = data.get("extra")
    application = Application(
        document=document,
        portrait=portrait if isinstance(portrait, Path) else None,
        signature=signature if isinstance(signature, Path) else None,
        source=source,
        fingerprints=fingerprints,
        extra=dict(extra) if isinstance(extra, Mapping) else {},
    )
    return CheckedApplication(application, findings.sorted(), intake.photo)


def check_document(
    data: object, *, names: NameOptions | None = None, today: dt.date | None = None
) -> tuple[Document | None, tuple[Finding, ...]]:
    """The document part of an application being filled in (a form's live preview): the same schema and
    field rules as `check_application`, without the images, which are checked when they are given. Returns
    the document when its fields pass (its number may be absent) and every finding about them."""
    findings = _Findings()
    bad = findings.extend_schema(e for e in _validator().iter_errors(data)
                                 if e.absolute_path and e.absolute_path[0] in ("document", "holder", "extra"))
    if not isinstance(data, Mapping):
        return None, findings.sorted()
    intake = _Intake(data, bad, findings)
    document = intake.document(names or NameOptions(), today)
    for section in ("document", "holder"):
        if not isinstance(data.get(section), Mapping):
            findings.add(section, "required", "is required")
    return (None if findings.has_errors() else document), findings.sorted()


class _Findings:
    def __init__(self) -> None:
        self._items: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, field: str, rule: str, message: str, clause: str = "", severity: Severity = Severity.ERROR) -> None:
        self.merge([Finding(field, rule, message, clause, severity)])

    def merge(self, found: Iterable[Finding]) -> None:
        # Two checks may say the very same thing (e.g. the document code rules); say it once.
        for f in found:
            if (f.field, f.rule, f.message) not in self._seen:
                self._seen.add((f.field, f.rule, f.message))
                self._items.append(f)

    def fields_with_errors(self) -> set[str]:
        return {f.field for f in self._items if f.severity is Severity.ERROR}

    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self._items)

    def sorted(self) -> tuple[Finding, ...]:
        order = _field_order()
        end = len(order)

        def key(f: Finding) -> tuple[int, int, str]:
            section = f.field.split(".")[0].split("[")[0]
            return (order.get(section, end), order.get(f.field, end), f.field)

        return tuple(sorted(self._items, key=key))

    def extend_schema(self, errors: Iterable[Any]) -> set[str]:
        """Translate JSON Schema errors into findings; return the field paths they touch."""
        bad: set[str] = set()
        for err in errors:
            for finding in _translate(err):
                bad.add(finding.field)
                self.merge([finding])
        return bad


def is_latin(text: str) -> bool:
    """True when every letter of `text` is a Latin letter (digits, spaces and punctuation allowed)."""
    return all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in text)


def _path(parts: Iterable[object]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out or ROOT


def _show(value: object, limit: int = 60) -> str:
    """A value as JSON, shortened: findings quote the input but must stay readable."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_TYPE_NAMES = {"object": "a JSON object", "string": "a string", "array": "an array"}


def _translate(err: Any) -> list[Finding]:
    where = list(err.absolute_path)
    field = _path(where)
    kind: str = err.validator
    value = err.instance
    sub = err.schema if isinstance(err.schema, Mapping) else {}
    if kind == "required":
        present = value if isinstance(value, Mapping) else {}
        return [
            Finding(_path([*where, name]), "required", "is required")
            for name in err.validator_value
            if name not in present
        ]
    if kind == "additionalProperties":
        known = set(sub.get("properties", {}))
        extras = [k for k in value if k not in known] if isinstance(value, Mapping) else []
        return [Finding(_path([*where, k]), "unknown-field", "is not a field of an application") for k in extras]
    if kind == "type":
        expected = _TYPE_NAMES.get(str(err.validator_value), str(err.validator_value))
        return [Finding(field, "type", f"{_show(value)} is not {expected}")]
    if kind == "enum":
        choices = ", ".join(str(c) for c in err.validator_value)
        return [Finding(field, "enum", f"{_show(value)} is not one of {choices}")]
    if kind == "pattern":
        rule = str(sub.get("x-rule", "pattern"))
        message = str(sub.get("x-message", f"does not match {err.validator_value}"))
        if rule == "empty":
            return [Finding(field, rule, message)]
        return [Finding(field, rule, f"{_show(value)} {message}")]
    if kind == "minLength":
        return [Finding(field, "empty", "is empty")]
    if kind in ("maxLength", "maxItems", "maxProperties"):
        return [Finding(field, "too-long", f"is longer than {err.validator_value}")]
    return [Finding(field, str(kind), str(err.message)[:200])]


class _Intake:
    """Reads the fields that passed the schema, applies the field rules and builds the document."""

    def __init__(self, data: Mapping[str, object], bad: set[str], findings: _Findings) -> None:
        self.data = data
        self.bad = bad
        self.findings = findings
        self.birth: Any = None
        self.stood_in: set[str] = set()
        self.photo: PhotoReport | None = None

    def raw(self, path: str) -> object:
        """The value at `path` ("holder.sex"), None when absent, or _BAD when the schema refused it."""
        if path in self.bad:
            return _BAD
        node: object = self.data
        for part in path.split("."):
            if not isinstance(node, Mapping):
                return _BAD
            node = node.get(part)
        return node

    def text(self, path: str, default: object = "", value: object = None) -> Any:
        """The plain text at `path` (or `value`, found there by the caller): NFC, spaces collapsed."""
        if value is None:
            value = self.raw(path)
        if value is None:
            return default
        if value is _BAD or path in self.bad or not isinstance(value, str):
            return _BAD
        clean = " ".join(unicodedata.normalize("NFC", value).split())
        if any(unicodedata.category(c) == "Cc" for c in clean):
            self.findings.add(path, "control-character", f"{_show(value)} contains a control character")
            return _BAD
        return clean

    def date(self, path: str) -> Any:
        value = self.raw(path)
        if value is None or value is _BAD:
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.findings.add(path, "not-a-date", f"{_show(value)} is not a date")
            return _BAD

    def partial_date(self, path: str) -> Any:
        value = self.raw(path)
        if value is None or value is _BAD:
            return value
        try:
            return PartialDate.parse(str(value))
        except InputError:
            why = " (a day is given with an unknown month)" if str(value)[5:7].upper() == "XX" else ""
            self.findings.add(path, "not-a-date", f"{_show(value)} is not a date{why}")
            return _BAD

    def state(self, path: str) -> Any:
        value = self.text(path)
        if value is _BAD or value == "":
            return value
        found = check_state(value, path)
        self.findings.merge(found)
        return _BAD if any(f.severity is Severity.ERROR for f in found) else value

    def stand_in(self, path: str, value: Any, substitute: Any, required: bool = False) -> Any:
        """`value`, or `substitute` when it is refused (or missing though required).

        Stand-ins let the later rules (document code, names, the MRZ) still run on the other fields; a
        finding already exists for every stood-in field, and findings about them are dropped.
        """
        if value is _BAD or (required and value is None):
            self.stood_in.add(path)
            return substitute
        return value

    def holder(self) -> Holder:
        """The holder, with stand-ins for refused fields (see `stand_in`)."""
        texts = {
            k: self.stand_in(f"holder.{k}", self.text(f"holder.{k}"), "")
            for k in (
                "secondary_identifier", "place_of_birth", "personal_number", "name_in_national_characters",
                "address", "telephone", "profession", "title", "primary_identifier_latin",
                "secondary_identifier_latin", "place_of_birth_latin",
            )
        }
        other = self.raw("holder.other_names")
        other_names: list[str] = []
        if isinstance(other, Sequence) and not isinstance(other, str):
            for i in range(len(other)):
                name = self.text(f"holder.other_names[{i}]", value=other[i])
                if name is _BAD:
                    self.stood_in.add(f"holder.other_names[{i}]")
                else:
                    other_names.append(name)
        elif other is _BAD:
            self.stood_in.add("holder.other_names")
        birth = self.partial_date("holder.date_of_birth")
        self.birth = birth
        sex = self.raw("holder.sex")
        primary = self.stand_in("holder.primary_identifier", self.text("holder.primary_identifier", default=_BAD), "X")
        self._latin_forms({"primary_identifier": primary, **texts})
        return Holder(
            primary_identifier=primary,
            nationality=self.stand_in("holder.nationality", self.state("holder.nationality"), "UTO", True),
            date_of_birth=self.stand_in("holder.date_of_birth", birth, PartialDate(None), True),
            sex=Sex.parse(str(self.stand_in("holder.sex", sex, "X", True))),
            other_names=tuple(other_names),
            **texts,
        )

    def _latin_forms(self, values: Mapping[str, str]) -> None:
        """A Latin form is the authority's spelling of something written in another script: it is
        refused beside a value already in Latin letters, and a place of birth in another script needs
        one (Doc 9303-3 §3: the VIZ gives a Latin form of what it prints in national characters)."""
        for key in ("primary_identifier", "secondary_identifier", "place_of_birth"):
            value, latin = values.get(key, ""), values.get(f"{key}_latin", "")
            if latin and value and is_latin(value):
                self.findings.add(f"holder.{key}_latin", "latin-not-needed",
                                  f"is given, but holder.{key} is already in Latin letters")
            if key == "place_of_birth" and value and not latin and not is_latin(value):
                self.findings.add("holder.place_of_birth_latin", "required",
                                  f"is required: holder.place_of_birth {_show(value)} is not in Latin letters",
                                  "Doc 9303-3 §3")

    def document(self, names: NameOptions, today: dt.date | None) -> Document | None:
        """The document when every field passed; otherwise None, after running every rule that can run."""
        code = self.raw("document.code")
        fmt = self.raw("document.format")
        state = self.state("document.issuing_state")
        issue = self.date("document.date_of_issue")
        expiry = self.date("document.date_of_expiry")
        number = self.raw("document.number")
        texts = {
            k: self.stand_in(f"document.{k}", self.text(f"document.{k}"), "")
            for k in ("authority", "optional_data", "optional_data_2", "can", "observations")
        }
        holder = self.holder()
        self._dates(issue, expiry, self.birth, today)
        if fmt is None or fmt is _BAD:
            return None  # without the format, neither the code nor the MRZ can be judged
        doc_format = DocumentFormat.parse(str(fmt))
        if code is not None and code is not _BAD:
            doc_code = DocumentCode(str(code))
            dates_known = issue is not _BAD and expiry is not _BAD
            self.findings.merge(
                check_document_code(
                    doc_code.value,
                    doc_format,
                    issue if dates_known else None,
                    expiry if dates_known else None,
                    field="document.code",
                )
            )
        else:
            doc_code = DocumentCode({"TD1": "ID", "TD2": "ID", "TD3": "PP"}.get(doc_format.value, "V<"))
            self.stood_in.add("document.code")
        if issue is _BAD or expiry is _BAD or expiry is None:
            self.stood_in.add("document.code")  # its rules depend on the dates
        document = Document(
            code=doc_code,
            format=doc_format,
            issuing_state=self.stand_in("document.issuing_state", state, "UTO", True),
            holder=holder,
            date_of_expiry=self.stand_in("document.date_of_expiry", expiry, dt.date(2099, 12, 31), True),
            date_of_issue=self.stand_in("document.date_of_issue", issue, None),
            number=self.stand_in("document.number", number, None),
            **texts,
        )
        self._mrz(document, names)
        return None if self.stood_in else document

    def _dates(self, issue: Any, expiry: Any, birth: Any, today: dt.date | None) -> None:
        if isinstance(issue, dt.date) and isinstance(expiry, dt.date) and expiry <= issue:
            self.findings.add(
                "document.date_of_expiry",
                "expiry-not-after-issue",
                f'"{expiry.isoformat()}" is not after the date of issue "{issue.isoformat()}"',
            )
        if isinstance(expiry, dt.date) and today is not None and expiry <= today:
            self.findings.add(
                "document.date_of_expiry", "expired", f'"{expiry.isoformat()}" is not after today ({today.isoformat()})'
            )
        earliest = birth.earliest() if isinstance(birth, PartialDate) else None
        if earliest is None:
            return
        if isinstance(issue, dt.date) and earliest > issue:
            self.findings.add(
                "holder.date_of_birth",
                "birth-after-issue",
                f'"{birth.iso()}" is after the date of issue "{issue.isoformat()}"',
            )
        elif isinstance(expiry, dt.date) and earliest >= expiry:
            self.findings.add(
                "holder.date_of_birth",
                "birth-after-expiry",
                f'"{birth.iso()}" is not before the date of expiry "{expiry.isoformat()}"',
            )
        if today is not None and earliest > today:
            self.findings.add("holder.date_of_birth", "birth-in-future", f'"{birth.iso()}" is in the future')

    def _mrz(self, document: Document, names: NameOptions) -> None:
        """Build the MRZ record (the number not yet allocated is stood in for) and keep its findings."""
        trial = document if document.number is not None else replace(document, number=_PLACEHOLDER_NUMBER)
        try:
            record_from_document(trial, names)
        except ValidationError as exc:
            # A field this module already refused is not reported twice under the MRZ floor's rule name.
            done = self.findings.fields_with_errors() | self.stood_in
            if document.number is None:
                done.add("document.number")
            self.findings.merge(f for f in exc.findings if f.field not in done)
        except InputError as exc:
            self.findings.add("document", "mrz", str(exc))

    def fingerprints(self, base_dir: Path) -> tuple[tuple[str, Path], ...]:
        """The finger images (shape already checked by the schema): each a sane image, each finger once."""
        entries = self.raw("fingerprints")
        if not isinstance(entries, list):
            return ()
        out: list[tuple[str, Path]] = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("image"), str):
                continue
            finger = str(entry.get("finger"))
            if any(f == finger for f, _ in out):
                self.findings.add(f"fingerprints[{i}].finger", "duplicate-finger", f"{finger} is given twice")
                continue
            path = Path(entry["image"])
            path = path if path.is_absolute() else base_dir / path
            found = [replace(f, field=f"fingerprints[{i}].image") for f in check_image(path, "fingerprint")]
            self.findings.merge(found)
            if not any(f.severity is Severity.ERROR for f in found):
                out.append((finger, path))
        return tuple(out)

    def image(self, key: str, base_dir: Path, photos: PhotoChecks | None = None) -> Any:
        value = self.raw(key)
        if value is None or value is _BAD:
            return value
        text = str(value)
        if "\x00" in text:
            self.findings.add(key, "bad-path", f"{_show(value)} is not a file path")
            return _BAD
        path = Path(text)
        if not path.is_absolute():
            path = base_dir / path
        found, report = _checked_image(path, key, photos)
        if report is not None:
            self.photo = report
        self.findings.merge(found)
        return _BAD if any(f.severity is Severity.ERROR for f in found) else path


def image_findings(path: Path, key: str) -> list[Finding]:
    """Every finding about an image file of an application (`portrait`, `signature`): a sane image of a
    known kind, and for a portrait the photo checks."""
    return _checked_image(path, key, None)[0]


def _checked_image(path: Path, key: str, photos: PhotoChecks | None) -> tuple[list[Finding], PhotoReport | None]:
    """`image_findings`, and for a portrait that passed the image checks its photo check (None otherwise)."""
    found = check_image(path, key)
    if key != "portrait" or any(f.severity is Severity.ERROR for f in found):
        return found, None
    try:
        report = check_photo(read_file(path, "portrait"), kept=photos)
    except InputError as exc:
        return [*found, Finding("portrait", "image-undecodable", str(exc))], None
    return [*found, *report.findings("portrait")], report
