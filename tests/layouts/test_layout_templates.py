"""Templates are data; the loader refuses a template whose MRZ is off Doc 9303's geometry."""

from __future__ import annotations

import copy
import json
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.errors import ConfigurationError, MrtdError, ProfileError
from mrtd.layouts import load_template, parse_template
from mrtd.layouts.fonts import ocrb_cap_height_mm
from mrtd.layouts.template import load_template_file
from mrtd.model import DocumentFormat

GEOMETRY = json.loads((Path(__file__).resolve().parent.parent / "vectors" / "layouts" / "geometry.json").read_text())


def raw(name: str) -> dict[str, Any]:
    text = resources.files("mrtd.layouts").joinpath("templates", f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


@pytest.mark.parametrize("name, fmt", [("td3", "TD3"), ("td1", "TD1")])
def test_builtin_templates_meet_the_standard(name: str, fmt: str) -> None:
    t = load_template(name)
    g = GEOMETRY[fmt]
    assert t.format is DocumentFormat(fmt)
    assert abs(t.width - g["width"]) < 1e-9 and abs(t.height - g["height"]) < 1e-9
    assert abs(t.mrz.left + 0.4 - g["left"]) <= g["left_tolerance"]
    assert t.mrz.char_pitch == g["char_pitch"]
    assert t.mrz.line_pitch == g["line_pitch"]
    assert t.mrz_zone().h == g["mrz_zone_height"]


def test_td3_lines_sit_in_their_print_zones() -> None:
    t = load_template("td3")
    half = ocrb_cap_height_mm(2.54) / 2
    for i, (lo, hi) in enumerate(GEOMETRY["TD3"]["print_zones"]):
        assert lo <= t.mrz.centre(i) - half and t.mrz.centre(i) + half <= hi
        assert t.mrz.centre(i) == pytest.approx(GEOMETRY["TD3"]["centre_lines"][i])


def test_td1_middle_line_centre() -> None:
    t = load_template("td1")
    assert t.mrz.centre(1) == pytest.approx(GEOMETRY["TD1"]["middle_centre_line"], abs=1e-9)


@pytest.mark.parametrize(
    "name, path, value, rule",
    [
        ("td3", ("mrz", "left"), 7.5, "mrz-left-edge"),
        ("td3", ("mrz", "left"), 4.2, "mrz-left-edge"),
        ("td3", ("mrz", "line_pitch"), 6.0, "mrz-line-pitch"),
        ("td3", ("mrz", "char_pitch"), 2.6, "ocr-b-pitch"),
        ("td3", ("mrz", "first_centre"), 17.0, "mrz-print-zone"),
        ("td3", ("width",), 120.0, "page-size"),
        ("td1", ("mrz", "first_centre"), 17.5, "mrz-centre-line"),
        ("td1", ("mrz", "line_pitch"), 4.0, "mrz-line-pitch"),
        ("td1", ("height",), 60.0, "page-size"),
    ],
)
def test_off_geometry_is_refused(name: str, path: tuple[str, ...], value: float, rule: str) -> None:
    r = raw(name)
    target = r
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ProfileError) as exc:
        parse_template(r, name)
    assert rule in {f.rule for f in exc.value.findings}


def test_zone_in_the_mrz_zone_is_refused() -> None:
    r = raw("td3")
    r["side"]["front"]["zones"].append({"kind": "field", "field": "address", "x": 40.0, "y": 66.0, "w": 30.0, "h": 6.0})
    with pytest.raises(ProfileError) as exc:
        parse_template(r, "td3")
    assert "mrz-zone-clear" in {f.rule for f in exc.value.findings}


def test_zone_outside_the_margin_and_overlapping_is_refused() -> None:
    r = raw("td1")
    zones = r["side"]["front"]["zones"]
    zones.append({"kind": "seal", "x": 84.0, "y": 3.0, "w": 5.0, "h": 5.0})
    zones.append({"kind": "field", "field": "address", "x": 32.0, "y": 11.0, "w": 10.0, "h": 4.0})
    with pytest.raises(ProfileError) as exc:
        parse_template(r, "td1")
    rules = {f.rule for f in exc.value.findings}
    assert {"zone-margin", "zone-overlap"} <= rules


def test_site_template_from_a_file(tmp_path: Path) -> None:
    """An emergency travel document page: a TD3 page with other zones, no code change."""
    text = resources.files("mrtd.layouts").joinpath("templates", "td3.toml").read_text("utf-8")
    text = text.replace('name = "td3"', 'name = "etd"').replace("TD3 passport data page", "Emergency travel document")
    path = tmp_path / "etd.toml"
    path.write_text(text, "utf-8")
    t = load_template(str(path))
    assert t.name == "etd" and t.description == "Emergency travel document"
    assert load_template_file(path) == t


@pytest.mark.parametrize("text", ["not toml [", 'format = "TD3"', 'format = "TD9"\n[mrz]\nside = "front"'])
def test_broken_template_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(MrtdError):
        load_template(str(path))


def test_unknown_builtin() -> None:
    with pytest.raises(ConfigurationError):
        load_template("td9")


_NUMBERS = [("mrz", "left"), ("mrz", "first_centre"), ("mrz", "line_pitch"), ("mrz", "char_pitch"),
            ("width",), ("height",)]


@settings(max_examples=60)
@given(st.sampled_from(["td3", "td1"]), st.sampled_from(_NUMBERS),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3), st.none(), st.booleans()))
def test_mutated_templates_raise_only_mrtd_errors(name: str, path: tuple[str, ...], value: object) -> None:
    r = copy.deepcopy(raw(name))
    target = r
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        t = parse_template(r, name)
    except MrtdError:
        return
    # Accepted: then it really is on the standard's geometry.
    assert abs(t.mrz.char_pitch - 2.54) <= 0.01


def test_site_td2_template_loads_and_its_left_edge_is_checked(tmp_path: Path) -> None:
    from layout_fixtures import TD2_SITE_TEMPLATE

    path = tmp_path / "td2.toml"
    path.write_text(TD2_SITE_TEMPLATE, "utf-8")
    t = load_template(str(path))
    assert t.format is DocumentFormat.TD2 and t.line_length == 36
    path.write_text(TD2_SITE_TEMPLATE.replace("left = 3.6", "left = 6.0"), "utf-8")
    with pytest.raises(ProfileError) as exc:
        load_template_file(path)
    assert "mrz-left-edge" in {f.rule for f in exc.value.findings}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_refused_by_name(value: float) -> None:
    """NaN compares false with every tolerance, so a char_pitch of NaN passed the pitch check (found by
    the mutation test above)."""
    r = copy.deepcopy(raw("td3"))
    r["mrz"]["char_pitch"] = value
    with pytest.raises(ConfigurationError, match=r"td3\.mrz\.char_pitch: .* is not a finite number"):
        parse_template(r, "td3")
