"""Templates as data: page size, sides, zones and the MRZ placement, read from TOML and checked.

A template is refused (ProfileError with every finding) when its MRZ is off the geometry Doc 9303
fixes for its format (Parts 4-6, `standard.toml`), or when a zone leaves the margins or intrudes on the
MRZ zone. A site adds its own template file; no code changes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mrtd.errors import ConfigurationError, Finding, ProfileError
from mrtd.layouts.fonts import ocrb_cap_height_mm
from mrtd.model import DocumentFormat

ZONE_KINDS = frozenset({"state", "title", "field", "portrait", "ghost", "signature", "seal", "can"})
FIELDS = frozenset({
    "type", "issuing_state", "document_number", "surname", "given_names", "name_national",
    "nationality", "date_of_birth", "sex", "place_of_birth", "personal_number", "date_of_issue",
    "date_of_expiry", "authority", "address", "observations", "number_of_entries", "duration_of_stay",
    "passport_number",
})
BUILTIN = ("td3", "td1", "td2", "mrv-a", "mrv-b")
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in mm from the top-left corner of the page."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def intersects(self, other: Box) -> bool:
        return (self.x < other.right - _EPS and other.x < self.right - _EPS
                and self.y < other.bottom - _EPS and other.y < self.bottom - _EPS)


@dataclass(frozen=True, slots=True)
class Zone:
    kind: str
    box: Box
    field: str = ""
    label: str = ""
    size: float = 0.0
    mono: bool = False
    inline: bool = False
    wrap: bool = False  # values wrap onto as many lines as the zone holds (observations)

    def mirrored(self, width: float) -> Zone:
        """The zone reflected left-right on a page `width` mm wide (a right-to-left page)."""
        b = self.box
        return dataclasses.replace(self, box=Box(width - b.right, b.y, b.w, b.h))


@dataclass(frozen=True, slots=True)
class Side:
    name: str
    paper: str
    pattern: str
    accent: str
    zones: tuple[Zone, ...]
    when: str = ""  # printed only when this field has a value ("" = always)
    mirror_rtl: bool = False  # zones reflected left-right when the page's language reads right to left


@dataclass(frozen=True, slots=True)
class MrzPlacement:
    """Where the MRZ stands: the side, the first character cell's left edge, the upper line's centre
    line from the bottom edge, the line pitch and the character pitch (mm)."""

    side: str
    left: float
    first_centre: float
    line_pitch: float
    char_pitch: float

    def centre(self, line: int) -> float:
        """Centre line of `line` (0 = upper) from the bottom edge."""
        return self.first_centre - line * self.line_pitch


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    format: DocumentFormat
    description: str
    width: float
    height: float
    label_size: float
    value_size: float
    mrz: MrzPlacement
    sides: tuple[Side, ...]

    @property
    def lines(self) -> int:
        return self.format.line_count

    @property
    def line_length(self) -> int:
        return self.format.line_length

    def side(self, name: str) -> Side:
        for s in self.sides:
            if s.name == name:
                return s
        raise ConfigurationError(f"template {self.name}: no side {name!r}")

    def mrz_zone(self) -> Box:
        """The MRZ zone of the standard (full width, `mrz_zone_height` up from the bottom edge)."""
        height = float(standard_format(self.format)["mrz_zone_height"])
        return Box(0.0, self.height - height, self.width, height)


@functools.lru_cache(maxsize=1)
def standard() -> Mapping[str, Any]:
    text = resources.files("mrtd.layouts").joinpath("standard.toml").read_text("utf-8")
    return tomllib.loads(text)


def standard_format(fmt: DocumentFormat) -> Mapping[str, Any]:
    try:
        rules: Mapping[str, Any] = standard()["format"][fmt.value]
    except KeyError:
        raise ConfigurationError(
            f"format {fmt.value}: no physical layout facts in standard.toml, templates cannot be checked"
        ) from None
    return rules


def check_geometry(t: Template) -> list[Finding]:
    """Every way the template's page and MRZ leave Doc 9303's geometry (Parts 4-6, Part 3 pitch)."""
    common = standard()["common"]
    rules = standard_format(t.format)
    found: list[Finding] = []
    where = f"template {t.name}"
    clause = {"TD3": "Doc 9303-4 §4.3", "TD1": "Doc 9303-5 §4.3", "TD2": "Doc 9303-6 §4.3",
              "MRV-A": "Doc 9303-7 §4.3", "MRV-B": "Doc 9303-7 §4.3"}.get(t.format.value, "Doc 9303")

    def bad(field: str, rule: str, message: str, cl: str = clause) -> None:
        found.append(Finding(f"{where}.{field}", rule, message, cl))

    tol = float(rules["size_tolerance"])
    for dim, value in (("width", t.width), ("height", t.height)):
        if abs(value - float(rules[dim])) > tol + _EPS:
            bad(dim, "page-size", f"{value} mm is not {rules[dim]} ± {tol} mm")
    m = t.mrz
    if abs(m.char_pitch - float(common["char_pitch"])) > float(common["char_pitch_tolerance"]):
        bad("mrz.char_pitch", "ocr-b-pitch", f"{m.char_pitch} mm is not 2.54 mm (10 characters per 25.4 mm)",
            "Doc 9303-3 §4.2")
    if abs(m.left - float(rules["left"])) > float(rules["left_tolerance"]) + _EPS:
        bad("mrz.left", "mrz-left-edge",
            f"first character at {m.left} mm from the left edge, not {rules['left']} ± {rules['left_tolerance']} mm")
    run = t.line_length * m.char_pitch
    if "print_width" in rules and run > float(rules["print_width"]) + _EPS:
        bad("mrz", "mrz-print-width", f"{run:.2f} mm of characters exceed the print width {rules['print_width']} mm")
    if m.left + run > t.width - float(common["margin"]) + _EPS:
        bad("mrz", "mrz-right-margin", f"the last character ends {m.left + run:.2f} mm from the left edge, "
            f"inside the {common['margin']} mm margin")
    if "line_pitch" in rules and abs(m.line_pitch - float(rules["line_pitch"])) > float(common["line_pitch_tolerance"]):
        bad("mrz.line_pitch", "mrz-line-pitch", f"{m.line_pitch} mm is not {rules['line_pitch']} mm")
    half = ocrb_cap_height_mm(m.char_pitch) / 2
    if "print_zones" in rules:
        for i, (lo, hi) in enumerate(rules["print_zones"]):
            c = m.centre(i)
            if c - half < float(lo) - _EPS or c + half > float(hi) + _EPS:
                bad(f"mrz.line{i + 1}", "mrz-print-zone",
                    f"characters from {c - half:.2f} to {c + half:.2f} mm above the bottom edge leave "
                    f"the print zone {lo}-{hi} mm")
    if "middle_centre_line" in rules and t.lines == 3:
        c = m.centre(1)
        if abs(c - float(rules["middle_centre_line"])) > float(rules["middle_centre_tolerance"]) + _EPS:
            bad("mrz.first_centre", "mrz-centre-line",
                f"middle line centred {c:.2f} mm above the bottom edge, not {rules['middle_centre_line']} ± "
                f"{rules['middle_centre_tolerance']} mm")
    zone_h = float(rules["mrz_zone_height"])
    top_line = m.centre(0) + half
    bottom_line = m.centre(t.lines - 1) - half
    if top_line > zone_h + _EPS or bottom_line < float(common["margin"]) - _EPS:
        bad("mrz", "mrz-zone", f"the MRZ lines span {bottom_line:.2f}-{top_line:.2f} mm above the bottom edge, "
            f"outside the MRZ zone (0-{zone_h} mm, {common['margin']} mm margin)")
    margin = float(common["margin"])
    mrz_zone = t.mrz_zone()
    for side in t.sides:
        for k, z in enumerate(side.zones):
            b = z.box
            name = f"side.{side.name}.zones[{k}]({z.kind}{':' + z.field if z.field else ''})"
            if b.x < margin - _EPS or b.y < margin - _EPS or b.right > t.width - margin + _EPS \
                    or b.bottom > t.height - margin + _EPS:
                bad(name, "zone-margin", f"{b} leaves the {margin} mm edge margin")
            if side.name == m.side and b.intersects(mrz_zone):
                bad(name, "mrz-zone-clear", f"{b} intrudes on the MRZ zone (bottom {zone_h} mm)")
            for j in range(k):
                if b.intersects(side.zones[j].box):
                    bad(name, "zone-overlap", f"overlaps zones[{j}] ({side.zones[j].kind})", "")
    return found


def _num(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{where}.{key}: a number is required")
    if not math.isfinite(value):  # NaN compares false with every tolerance, and would pass each check
        raise ConfigurationError(f"{where}.{key}: {value} is not a finite number")
    return float(value)


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}.{key}: a string is required")
    return value


def _zone(raw: Any, where: str) -> Zone:
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}: a table is required")
    kind = _text(raw, "kind", where)
    if kind not in ZONE_KINDS:
        raise ConfigurationError(f"{where}.kind: {kind!r} is not one of {sorted(ZONE_KINDS)}")
    field = _text(raw, "field", where, "")
    if kind == "field" and field not in FIELDS:
        raise ConfigurationError(f"{where}.field: {field!r} is not one of {sorted(FIELDS)}")
    box = Box(*(_num(raw, k, where) for k in ("x", "y", "w", "h")))
    if box.w <= 0 or box.h <= 0:
        raise ConfigurationError(f"{where}: width and height must be positive")
    size = _num(raw, "size", where) if "size" in raw else 0.0
    return Zone(kind, box, field, _text(raw, "label", where, ""), size,
                bool(raw.get("mono", False)), bool(raw.get("inline", False)), bool(raw.get("wrap", False)))


def parse_template(raw: Mapping[str, Any], source: str = "template") -> Template:
    """Build a template from parsed TOML and check it; raise ProfileError listing every finding."""
    fmt = DocumentFormat.parse(_text(raw, "format", source))
    mrz_raw = raw.get("mrz")
    if not isinstance(mrz_raw, dict):
        raise ConfigurationError(f"{source}.mrz: a table is required")
    mrz = MrzPlacement(_text(mrz_raw, "side", f"{source}.mrz"),
                       *(_num(mrz_raw, k, f"{source}.mrz") for k in ("left", "first_centre", "line_pitch", "char_pitch")))
    sides_raw = raw.get("side")
    if not isinstance(sides_raw, dict) or not sides_raw:
        raise ConfigurationError(f"{source}.side: at least one side is required")
    sides = []
    for name, s in sides_raw.items():
        w = f"{source}.side.{name}"
        if not isinstance(s, dict) or not isinstance(s.get("zones", []), list):
            raise ConfigurationError(f"{w}: a table with a list of zones is required")
        zones = tuple(_zone(z, f"{w}.zones[{i}]") for i, z in enumerate(s.get("zones", [])))
        sides.append(Side(name, _text(s, "paper", w, "#ffffff"), _text(s, "pattern", w, "#dddddd"),
                          _text(s, "accent", w, "#000000"), zones, _text(s, "when", w, ""),
                          bool(s.get("mirror_rtl", False))))
        if sides[-1].when and sides[-1].when not in FIELDS:
            raise ConfigurationError(f"{w}.when: {sides[-1].when!r} is not one of {sorted(FIELDS)}")
    names = [s.name for s in sides]
    if mrz.side not in names:
        raise ConfigurationError(f"{source}.mrz.side: {mrz.side!r} is not a side of the template")
    for k, side in enumerate(sides):
        # A page whose conditional side is left out keeps its sides' order: the MRZ side stays where it is.
        if side.when and (side.name == mrz.side or k < names.index(mrz.side)):
            raise ConfigurationError(f"{source}.side.{side.name}: a side printed `when` must come after the MRZ side")
    t = Template(_text(raw, "name", source), fmt, _text(raw, "description", source, ""),
                 _num(raw, "width", source), _num(raw, "height", source),
                 _num(raw, "label_size", source), _num(raw, "value_size", source), mrz, tuple(sides))
    findings = check_geometry(t)
    if findings:
        raise ProfileError(f"{source}: template refused: " + "; ".join(str(f) for f in findings), findings)
    return t


def load_template_file(path: Path) -> Template:
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"template {path}: cannot read ({exc})") from None
    return parse_template(raw, str(path))


@functools.lru_cache(maxsize=32)
def load_template(name: str) -> Template:
    """A built-in template by name (`td3`, `td1`, `td2`, `mrv-a`, `mrv-b`), or a site template by path to
    its TOML file."""
    if name in BUILTIN:
        text = resources.files("mrtd.layouts").joinpath("templates", f"{name}.toml").read_text("utf-8")
        return parse_template(tomllib.loads(text), f"templates/{name}.toml")
    path = Path(name)
    if path.suffix == ".toml":
        return load_template_file(path)
    raise ConfigurationError(f"template: {name!r} is neither a built-in ({', '.join(BUILTIN)}) nor a .toml file")
