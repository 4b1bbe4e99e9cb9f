"""The five MRZ formats of Doc 9303 Parts 4-7: TD3 (2x44), TD1 (3x30), TD2 (2x36), MRV-A (2x44), MRV-B (2x36).

`build` writes a record strictly (every problem refused at once); `decode` reads lines leniently and
returns every finding it can make, never raising on junk. Positions in findings are 1-based, as in
Doc 9303 (`line2[10]`).

TD3 optional-data check digit (Part 4 §4.2.2.2, position 43): when positions 29-42 are all fillers the
issuer may print `0` or `<`. We write `<`, the filler that says "field not used" (the data element
directory points to it for an unused personal number field), and accept both when reading. The choice
does not change the composite check digit: `<` and `0` both count as 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mrtd.errors import Finding, InputError, Severity, ValidationError
from mrtd.model import DocumentFormat, PartialDate, Sex
from mrtd.mrz.charset import DIGITS, FILLER, MRZ_CHARS, bad_characters, finding_parts, is_letters, is_mrz_text
from mrtd.mrz.checkdigit import CLAUSE_CHECK_DIGIT, check_digit_char
from mrtd.mrz.codes import check_document_code, check_state
from mrtd.mrz.dates import birth_date, check_date_text, encode_date, expiry_date
from mrtd.mrz.names import fit_name, split_name_field
from mrtd.mrz.record import MrzRecord

TD1, TD2, TD3, MRVA, MRVB = (
    DocumentFormat.TD1,
    DocumentFormat.TD2,
    DocumentFormat.TD3,
    DocumentFormat.MRVA,
    DocumentFormat.MRVB,
)

CLAUSE = {
    TD1: "Doc 9303-5 §4.2.2",
    TD2: "Doc 9303-6 §4.2.2",
    TD3: "Doc 9303-4 §4.2.2",
    MRVA: "Doc 9303-7 §4.2.2",
    MRVB: "Doc 9303-7 §4.2.2",
}
NAME_WIDTH = {TD1: 30, TD2: 31, TD3: 39, MRVA: 39, MRVB: 31}
OPTIONAL_WIDTH = {TD1: 15, TD2: 7, TD3: 14, MRVA: 16, MRVB: 8}
OPTIONAL_2_WIDTH = 11  # TD1 line 2, positions 19-29
_LONG_NUMBERS = (TD1, TD2)  # Parts 4 and 7 have no provision for numbers longer than 9 characters


def _pad(text: str, width: int) -> str:
    return text + FILLER * (width - len(text))


def _cd(data: str) -> str:
    return check_digit_char(data)


# ----------------------------------------------------------------------------------------------- build


def record_problems(record: MrzRecord) -> list[Finding]:
    """Every reason `r` cannot be written as an MRZ (field = the record attribute)."""
    r = record
    out: list[Finding] = []
    fmt = r.format
    if not isinstance(fmt, DocumentFormat):
        return [Finding("format", "format", f"{fmt!r} is not a DocumentFormat")]
    clause = CLAUSE[fmt]
    expiry: dt.date | None = None
    if isinstance(r.date_of_expiry, PartialDate) and r.date_of_expiry.is_complete:
        expiry = r.date_of_expiry.to_date()
    else:
        out.append(
            Finding("date_of_expiry", "not-a-date", "the date of expiry must be a complete date", clause)
        )
    if not isinstance(r.date_of_birth, PartialDate):
        out.append(
            Finding("date_of_birth", "not-a-date", f"{r.date_of_birth!r} is not a PartialDate", clause)
        )
    if not isinstance(r.sex, Sex):
        out.append(Finding("sex", "sex", f"{r.sex!r} is not F, M or X", clause))
    if len(r.document_code) != 2:
        out.append(
            Finding("document_code", "document-code", f"{r.document_code!r} is not 2 characters", clause)
        )
    else:
        out += check_document_code(r.document_code, fmt, None, expiry, field="document_code")
    for name in ("issuing_state", "nationality"):
        value: str = getattr(r, name)
        if len(value) != 3:
            out.append(
                Finding(name, "state-code", f"{value!r} is not 3 characters (pad with '<': 'D<<')", clause)
            )
        else:
            out += check_state(value, name)
    names_ok = True
    for name in ("primary_identifier", "secondary_identifier"):
        value = getattr(r, name)
        if (value or name == "primary_identifier") and not all(map(is_letters, _parts(value))):
            names_ok = False
            out.append(
                Finding(
                    name,
                    "name",
                    f"{value!r} is not letters A-Z in components joined by '<'",
                    "Doc 9303-3 §4.6",
                )
            )
    if names_ok:
        try:
            fit_name(_parts(r.primary_identifier), _parts(r.secondary_identifier), NAME_WIDTH[fmt])
        except InputError as exc:
            out.append(Finding("primary_identifier", "name", *finding_parts(str(exc), "Doc 9303-3 §4.6")))
    out += _number_problems(r.document_number, r.optional_data, fmt)
    for name, text, width in (
        ("optional_data", r.optional_data.rstrip(FILLER), OPTIONAL_WIDTH[fmt]),
        ("optional_data_2", r.optional_data_2.rstrip(FILLER), OPTIONAL_2_WIDTH if fmt is TD1 else 0),
    ):
        bad = [] if is_mrz_text(text) else sorted({c for c in text if c not in MRZ_CHARS})
        if bad:
            out.append(
                Finding(
                    name, "bad-character", f"{''.join(bad)!r} may not appear in an MRZ", "Doc 9303-3 §4.3"
                )
            )
        if len(text) > width:
            what = f"at most {width} characters" if width else f"not available in {fmt.value}"
            out.append(Finding(name, "too-long", f"{text!r}: {what}", clause))
    return out


def _parts(identifier: str) -> list[str]:
    return identifier.split(FILLER) if identifier else []


def _number_problems(number: str, optional: str, fmt: DocumentFormat) -> list[Finding]:
    clause = CLAUSE[fmt]
    out: list[Finding] = []
    if not number:
        return [Finding("document_number", "missing", "the document number is empty", clause)]
    bad = [] if is_mrz_text(number) else sorted({c for c in number if c not in MRZ_CHARS})
    if bad:
        out.append(
            Finding(
                "document_number",
                "bad-character",
                f"{''.join(bad)!r} may not appear in an MRZ",
                "Doc 9303-3 §4.3",
            )
        )
    if number[0] == FILLER or number[-1] == FILLER:
        out.append(
            Finding("document_number", "document-number", f"{number!r} starts or ends with a filler", clause)
        )
    if len(number) <= 9:
        return out
    if fmt not in _LONG_NUMBERS:
        part = "Part 7" if fmt.is_visa else "Part 4"
        out.append(
            Finding(
                "document_number",
                "too-long",
                f"{number!r} has {len(number)} characters; Doc 9303 {part} has no provision for document numbers "
                f"longer than 9 characters in {fmt.value}",
                clause,
            )
        )
        return out
    rest = number[9:]
    if FILLER in rest:
        out.append(
            Finding(
                "document_number",
                "document-number",
                f"{number!r}: the characters after the 9th may not contain fillers",
                clause,
            )
        )
    opt = optional.rstrip(FILLER)
    used = len(rest) + 1 + (1 + len(opt) if opt else 0)
    if used > OPTIONAL_WIDTH[fmt]:
        out.append(
            Finding(
                "document_number",
                "too-long",
                f"{number!r}: the {len(rest)} characters beyond 9, their check digit"
                + (f", a filler and the optional data {opt!r}" if opt else "")
                + f" need {used} of the {OPTIONAL_WIDTH[fmt]} optional-data positions",
                clause,
            )
        )
    return out


def build(record: MrzRecord) -> tuple[str, ...]:
    """The MRZ lines of `record`; raises `ValidationError` listing every problem."""
    problems = [p for p in record_problems(record) if p.severity is Severity.ERROR]
    if problems:
        raise ValidationError(problems, source="mrz")
    return _layout(record)


def _layout(r: MrzRecord) -> tuple[str, ...]:
    fmt = r.format
    code = r.document_code
    dob = encode_date(r.date_of_birth)
    doe = encode_date(r.date_of_expiry)
    dob_f = dob + _cd(dob)
    doe_f = doe + _cd(doe)
    sex = r.sex.mrz
    num = r.document_number
    opt = r.optional_data.rstrip(FILLER)
    name = fit_name(_parts(r.primary_identifier), _parts(r.secondary_identifier), NAME_WIDTH[fmt])
    name = _pad(name, NAME_WIDTH[fmt])
    if len(num) <= 9:
        num9 = _pad(num, 9)
        num_f = num9 + _cd(num9)
        opt_f = _pad(opt, OPTIONAL_WIDTH[fmt])
    else:
        num_f = num[:9] + FILLER
        opt_f = _pad(num[9:] + _cd(num) + (FILLER + opt if opt else ""), OPTIONAL_WIDTH[fmt])
    if fmt is TD1:
        l1 = code + r.issuing_state + num_f + opt_f
        l2 = dob_f + sex + doe_f + r.nationality + _pad(r.optional_data_2.rstrip(FILLER), OPTIONAL_2_WIDTH)
        return l1, l2 + _cd(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]), name
    l1 = code + r.issuing_state + name
    l2 = num_f + r.nationality + dob_f + sex + doe_f + opt_f
    if fmt is TD3:
        l2 += _cd(opt_f) if opt else FILLER
        return l1, l2 + _cd(l2[0:10] + l2[13:20] + l2[21:43])
    if fmt is TD2:
        return l1, l2 + _cd(l2[0:10] + l2[13:20] + l2[21:35])
    return l1, l2  # MRV-A, MRV-B: no optional-data and no composite check digit (Part 7)


def check_digits(record: MrzRecord) -> dict[str, str]:
    """The check digits of `record` as printed, by name."""
    r = record
    lines = build(r)
    fmt = r.format
    if fmt is TD1:
        l1, l2 = lines[0], lines[1]
        if l1[14] == FILLER:
            part = l1[15:30].split(FILLER, 1)[0]
            number_cd = part[-1]
        else:
            number_cd = l1[14]
        return {
            "document_number": number_cd,
            "date_of_birth": l2[6],
            "date_of_expiry": l2[14],
            "composite": l2[29],
        }
    l2 = lines[1]
    out = {"document_number": l2[9], "date_of_birth": l2[19], "date_of_expiry": l2[27]}
    if fmt is TD2 and l2[9] == FILLER:
        out["document_number"] = l2[28:35].split(FILLER, 1)[0][-1]
    if fmt is TD3:
        out["optional_data"] = l2[42]
        out["composite"] = l2[43]
    elif fmt is TD2:
        out["composite"] = l2[35]
    return out


def mrz_information(record: MrzRecord) -> str:
    """Document number + check digit + date of birth + check digit + date of expiry + check digit: the
    seed of the BAC/PACE MRZ password (Doc 9303-11 §9.7.2). A number longer than 9 characters is used in
    full with the check digit over all of it (Doc 9303-11 App. D.2)."""
    r = record
    cds = check_digits(r)
    number = r.document_number if len(r.document_number) > 9 else _pad(r.document_number, 9)
    dob = encode_date(r.date_of_birth)
    doe = encode_date(r.date_of_expiry)
    return number + cds["document_number"] + dob + cds["date_of_birth"] + doe + cds["date_of_expiry"]


# ---------------------------------------------------------------------------------------------- decode


class _Reader:
    """Collects findings while decoding; never raises on junk."""

    def __init__(self, fmt: DocumentFormat, lines: list[str]) -> None:
        self.fmt = fmt
        self.lines = lines
        self.clause = CLAUSE[fmt]
        self.findings: list[Finding] = []
        self.clean = True  # no bad characters anywhere: check digits need no per-character test

    def add(
        self, field: str, rule: str, message: str, clause: str = "", severity: Severity = Severity.ERROR
    ) -> None:
        self.findings.append(Finding(field, rule, message, clause or self.clause, severity))

    def digit(self, label: str, data: str, line: int, pos: int) -> None:
        """Compare the check digit at line/pos (1-based) with the one computed over `data`."""
        got = self.lines[line - 1][pos - 1]
        if not self.clean and (not is_mrz_text(data) or got not in MRZ_CHARS):
            return  # already reported as bad characters
        want = _cd(data)
        if got != want:
            shown = "a filler" if got == FILLER else f"{got!r}"
            self.add(
                f"line{line}[{pos}]",
                "check-digit",
                f"{label} check digit is {shown}, computed {want}",
                CLAUSE_CHECK_DIGIT,
            )


def _detect(lines: Sequence[str]) -> DocumentFormat | None:
    if len(lines) == 3:
        return TD1
    if len(lines) != 2:
        return None
    longest = max(len(lines[0]), len(lines[1]))
    visa = lines[0][:1] == "V"
    if abs(longest - 44) <= abs(longest - 36):
        return MRVA if visa else TD3
    return MRVB if visa else TD2


def decode(lines: Sequence[str], reference: dt.date | None) -> tuple[MrzRecord | None, list[Finding]]:
    """Read MRZ lines: (the record, or None when an error was found or no reference was given; findings)."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    texts: list[str] = []
    for i, line in enumerate(lines):
        if not isinstance(line, str):
            return None, [Finding(f"line{i + 1}", "not-text", f"line {i + 1} is not text", "Doc 9303-3 §4.3")]
        texts.append(line)
    fmt = _detect(texts)
    if fmt is None:
        return None, [
            Finding(
                "lines",
                "line-count",
                f"{len(texts)} lines: an MRZ has 2 (TD2, TD3, MRV) or 3 (TD1)",
                "Doc 9303-4..7 §4.2",
            )
        ]
    width = fmt.line_length
    rd = _Reader(fmt, texts)
    fixed: list[str] = []
    for i, line in enumerate(texts):
        if len(line) != width:
            rd.add(
                f"line{i + 1}",
                "line-length",
                f"line {i + 1} has {len(line)} characters, {fmt.value} has {width}",
            )
        for pos, c in bad_characters(line[:width]):
            rd.clean = False
            rd.add(
                f"line{i + 1}[{pos + 1}]",
                "bad-character",
                f"{c!r} is not an MRZ character (A-Z, 0-9, <)",
                "Doc 9303-3 §4.3",
            )
        fixed.append(_pad(line[:width], width))  # keep decoding a wrong-length line to find the rest
    rd.lines = fixed
    record = _decode_td1(rd, reference) if fmt is TD1 else _decode_two_line(rd, reference)
    errors = any(f.severity is Severity.ERROR for f in rd.findings)
    return (None if errors else record), rd.findings


def _name(rd: _Reader, text: str, line: int, start: int) -> tuple[str, str]:
    end = start + len(text) - 1
    where = f"line{line}[{start}-{end}]"
    if not DIGITS.isdisjoint(text):
        rd.add(
            where,
            "name",
            "the name field holds digits; names are letters and fillers only",
            "Doc 9303-3 §4.6",
        )
    primary, secondary = split_name_field(text)
    if not primary:
        rd.add(where, "name", "the name field does not start with the primary identifier", "Doc 9303-3 §4.6")
    elif "" in primary.split(FILLER) or (secondary and "" in secondary.split(FILLER)):
        rd.add(
            where,
            "name",
            f"{text.rstrip(FILLER)!r} has an empty name component (too many fillers)",
            "Doc 9303-3 §4.6",
        )
    return primary, secondary


def _date(
    rd: _Reader, label: str, text: str, where: str, reference: dt.date | None, birth: bool
) -> PartialDate | None:
    try:
        if FILLER in text and not birth:
            raise InputError(f"{text!r}: only a date of birth may have unknown parts")
        if reference is None:
            return check_date_text(text)
        return birth_date(text, reference) if birth else expiry_date(text, reference)
    except InputError as exc:
        text, clause = finding_parts(str(exc), "Doc 9303-3 §4.7")
        rd.add(where, "not-a-date", f"{label}: {text}", clause)
        return None


def _sex(rd: _Reader, c: str, where: str) -> Sex:
    if c in ("F", "M"):
        return Sex(c)
    if c == "X":
        rd.add(
            where,
            "sex",
            "sex 'X': the MRZ writes unspecified as '<' (X is the VIZ form)",
            severity=Severity.WARNING,
        )
    elif c != FILLER:
        rd.add(where, "sex", f"sex {c!r} is not F, M or <")
    return Sex.UNSPECIFIED


def _number(
    rd: _Reader, num9: str, cd: str, line: int, cd_pos: int, opt_field: str, opt_start: int
) -> tuple[str, str]:
    """(document number, optional data) with the number's check digit checked; long numbers joined."""
    label = "document number"
    if cd != FILLER:
        number = num9.rstrip(FILLER)
        rd.digit(label, num9, line, cd_pos)
        opt = opt_field.rstrip(FILLER)
    elif rd.fmt not in _LONG_NUMBERS:
        number = num9.rstrip(FILLER)
        part = "Part 7" if rd.fmt.is_visa else "Part 4"
        rd.add(
            f"line{line}[{cd_pos}]",
            "check-digit",
            f"{label} check digit is a filler; Doc 9303 {part} has no provision for longer document numbers",
        )
        opt = opt_field.rstrip(FILLER)
    else:
        head, sep, tail = opt_field.partition(FILLER)
        if len(head) < 2 or FILLER in num9 or head[-1] not in DIGITS:
            rd.add(
                f"line{line}[{cd_pos}]",
                "document-number",
                f"{label}: a filler at position {cd_pos} announces a number longer than 9 characters, "
                f"but positions {opt_start}-{opt_start + len(opt_field) - 1} do not continue it with a check digit",
            )
            return num9.rstrip(FILLER), opt_field.rstrip(FILLER)
        number = num9 + head[:-1]
        got_pos = opt_start + len(head) - 1
        got = head[-1]
        if is_mrz_text(number):
            want = _cd(number)
            if got != want:
                rd.add(
                    f"line{line}[{got_pos}]",
                    "check-digit",
                    f"{label} check digit (over all {len(number)} characters) is {got!r}, computed {want}",
                    CLAUSE_CHECK_DIGIT,
                )
        opt = tail.rstrip(FILLER) if sep else ""
    if not number:
        rd.add(f"line{line}[{cd_pos - 9}-{cd_pos - 1}]", "document-number", "the document number is empty")
    return number, opt


def _common(
    rd: _Reader,
    code: str,
    state: str,
    nat: str,
    nat_where: str,
    dob: PartialDate | None,
    doe: PartialDate | None,
    reference: dt.date | None,
) -> None:
    expiry = doe.to_date() if doe is not None and reference is not None and doe.is_complete else None
    rd.findings += check_document_code(code, rd.fmt, None, expiry, field="line1[1-2]")
    rd.findings += check_state(state, "line1[3-5]")
    rd.findings += check_state(nat, nat_where)


def _decode_td1(rd: _Reader, reference: dt.date | None) -> MrzRecord | None:
    l1, l2, l3 = rd.lines
    number, opt = _number(rd, l1[5:14], l1[14], 1, 15, l1[15:30], 16)
    dob = _date(rd, "date of birth", l2[0:6], "line2[1-6]", reference, True)
    rd.digit("date of birth", l2[0:6], 2, 7)
    sex = _sex(rd, l2[7], "line2[8]")
    doe = _date(rd, "date of expiry", l2[8:14], "line2[9-14]", reference, False)
    rd.digit("date of expiry", l2[8:14], 2, 15)
    rd.digit("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], 2, 30)
    _common(rd, l1[0:2], l1[2:5], l2[15:18], "line2[16-18]", dob, doe, reference)
    primary, secondary = _name(rd, l3, 3, 1)
    if dob is None or doe is None or reference is None:
        return None
    return MrzRecord(
        TD1,
        l1[0:2],
        l1[2:5],
        primary,
        secondary,
        number,
        l2[15:18],
        dob,
        sex,
        doe,
        opt,
        l2[18:29].rstrip(FILLER),
    )


def _decode_two_line(rd: _Reader, reference: dt.date | None) -> MrzRecord | None:
    fmt = rd.fmt
    l1, l2 = rd.lines
    opt_w = OPTIONAL_WIDTH[fmt]
    primary, secondary = _name(rd, l1[5:], 1, 6)
    number, opt = _number(rd, l2[0:9], l2[9], 2, 10, l2[28 : 28 + opt_w], 29)
    dob = _date(rd, "date of birth", l2[13:19], "line2[14-19]", reference, True)
    rd.digit("date of birth", l2[13:19], 2, 20)
    sex = _sex(rd, l2[20], "line2[21]")
    doe = _date(rd, "date of expiry", l2[21:27], "line2[22-27]", reference, False)
    rd.digit("date of expiry", l2[21:27], 2, 28)
    if fmt is TD3:
        pn = l2[28:42]
        if pn == FILLER * 14 and l2[42] in ("0", FILLER):
            pass  # unused personal number: the issuer may print 0 or < (Part 4 §4.2.2.2)
        else:
            rd.digit("optional data (personal number)", pn, 2, 43)
        rd.digit("composite", l2[0:10] + l2[13:20] + l2[21:43], 2, 44)
    elif fmt is TD2:
        rd.digit("composite", l2[0:10] + l2[13:20] + l2[21:35], 2, 36)
    _common(rd, l1[0:2], l1[2:5], l2[10:13], "line2[11-13]", dob, doe, reference)
    if dob is None or doe is None or reference is None:
        return None
    return MrzRecord(fmt, l1[0:2], l1[2:5], primary, secondary, number, l2[10:13], dob, sex, doe, opt, "")
