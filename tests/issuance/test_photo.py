"""The photo check on real photographs (public domain, shipped inside packages) and on generated negatives,
the token crop made from the eye centres, DG2's feature points, and `mrtd photo check|crop`."""

from __future__ import annotations

import contextlib
import io
import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from clikit import envelope
from conftest import EXAMPLES, VECTORS
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from mrtd.chip.lds.dg2 import EYE_CENTRE_LEFT, EYE_CENTRE_RIGHT, FEATURE_2D, Dg2, FeaturePoint
from mrtd.chip.portrait import prepare_portrait, token_eyes
from mrtd.cli import main
from mrtd.errors import ConfigurationError, MrtdError, Severity
from mrtd.issuance.photo import (
    PhotoReport,
    annotated_png,
    check_photo,
    locate,
    photo_sha256,
    rules,
    token_image,
)
from mrtd.issuance.photo.pool import Pool

EYES = {p["name"]: p for p in json.loads((VECTORS / "issuance" / "photo-eyes.json").read_text("utf-8"))["photos"]}
TOLERANCE = 4.0  # px: "within a few pixels" (5 % of the Hopper eye distance)
HOPPER_FACE = 231  # px: the width of the frontal face box in grace_hopper.jpg


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _astronaut() -> bytes:
    from skimage import data

    return _png(Image.fromarray(data.astronaut()))


def _hopper_path() -> Path:
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def _hopper() -> Image.Image:
    return Image.open(_hopper_path()).convert("RGB")


REAL = {"astronaut": _astronaut, "grace_hopper": lambda: _hopper_path().read_bytes()}


@pytest.mark.parametrize("name", sorted(REAL))
def test_eyes_of_real_photographs_within_a_few_pixels(name: str) -> None:
    report = check_photo(REAL[name]())
    hand = EYES[name]
    assert (report.width, report.height) == tuple(hand["size"])
    assert report.eyes is not None
    assert math.dist(report.eyes.right, hand["right"]) <= TOLERANCE
    assert math.dist(report.eyes.left, hand["left"]) <= TOLERANCE


def test_grace_hopper_is_accepted_with_what_is_not_icao_reported() -> None:
    """A real photograph, accepted: one face, two eyes, level, sharp and well exposed. What an ICAO photo
    would not have is reported as warnings: the eyes are 82 px apart (90 for a full frontal image) and the
    background is a flag."""
    report = check_photo(_hopper_path().read_bytes())
    assert report.ok
    assert set(report.failed) == {"eye-distance", "background"}
    assert all(f.severity is Severity.WARNING and f.field == "portrait" for f in report.findings())
    checks = {c.rule.name: c for c in report.checks}
    assert checks["tilt"].value is not None and abs(checks["tilt"].value) < 5
    assert checks["head-width"].status == "unmeasured"  # no outline against a flag
    assert not check_photo(_hopper_path().read_bytes(), strict=True).ok


def test_the_astronaut_is_refused_for_its_resolution() -> None:
    """skimage's astronaut: the face is found, but the eyes are 43 px apart in a 512 px picture; a token
    image needs 60 (ISO/IEC 19794-5 clause 9), so it is refused for that reason."""
    report = check_photo(_astronaut())
    assert not report.ok
    errors = [f for f in report.findings() if f.severity is Severity.ERROR]
    assert [f.rule for f in errors] == ["photo-token-resolution"]
    assert "needs at least 60 px" in errors[0].message and "clause 9" in errors[0].clause


def _negatives() -> dict[str, tuple[Image.Image, str]]:
    hopper = _hopper()
    two = Image.new("RGB", (1024, 600), (128, 128, 128))
    two.paste(hopper, (0, 0))
    two.paste(hopper, (512, 0))
    red = Image.new("RGB", (600, 800), (200, 20, 20))
    ImageDraw.Draw(red).text((220, 390), "NOT A FACE", fill=(255, 255, 255))
    return {
        "no face": (Image.new("RGB", (600, 800), (214, 218, 224)), "photo-face"),
        "not a face": (red, "photo-face"),
        "two faces": (two, "photo-face"),
        "rotated": (hopper.rotate(10, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)), "photo-tilt"),
        "dark": (Image.eval(hopper, lambda v: v // 5), "photo-exposure"),
        "blurred": (hopper.filter(ImageFilter.GaussianBlur(3)), "photo-sharpness"),
    }


@pytest.mark.parametrize("case", sorted(_negatives()))
def test_negatives_are_refused_with_their_reason(case: str) -> None:
    image, reason = _negatives()[case]
    report = check_photo(_png(image))
    assert not report.ok
    errors = [f.rule for f in report.findings() if f.severity is Severity.ERROR]
    assert errors == [reason]


def test_two_faces_say_how_many() -> None:
    image, _ = _negatives()["two faces"]
    [finding] = [f for f in check_photo(_png(image)).findings() if f.rule == "photo-face"]
    assert "faces found: 2, needs exactly 1" in finding.message


@pytest.mark.parametrize("fraction", [1 / 8, 1 / 6])
def test_a_second_smaller_face_is_counted(fraction: float) -> None:
    """Someone else in the picture: Grace Hopper pasted in the top corner of an example portrait, her face
    an eighth or a sixth of the photo's longer side (the faces `locate` finds go down to about an eighth)."""
    portrait = Image.open(EXAMPLES / "portraits" / "anna.jpg").convert("RGB")
    face = fraction * max(portrait.size)
    hopper = _hopper()
    small = hopper.resize((round(hopper.width * face / HOPPER_FACE), round(hopper.height * face / HOPPER_FACE)),
                          Image.Resampling.LANCZOS)
    portrait.paste(small, (portrait.width - small.width, 0))
    report = check_photo(_png(portrait))
    assert len(report.detection.faces) == 2
    assert [f.rule for f in report.findings() if f.severity is Severity.ERROR] == ["photo-face"]


def test_a_missing_face_model_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(locate, "MODEL", tmp_path / "face_detection_short_range.tflite")
    monkeypatch.setattr(locate, "NETS", Pool(locate._load))  # none loaded yet
    with pytest.raises(ConfigurationError, match=r"face detector's model .* is missing .* run `make setup`"):
        check_photo(_hopper_path().read_bytes())


def test_every_example_portrait_passes() -> None:
    for path in sorted((EXAMPLES / "portraits").glob("*.jpg")):
        report = check_photo(path.read_bytes())
        assert report.ok and report.findings() == [], (path.name, report.findings())


def test_a_kept_report_reads_back_equal_and_is_used_for_the_same_bytes_only() -> None:
    hopper = _hopper_path().read_bytes()
    report = check_photo(hopper)
    again = PhotoReport.from_record(report.to_record())
    assert again == report and again.as_dict() == report.as_dict()
    kept = {photo_sha256(hopper): again}
    assert check_photo(hopper, kept=kept) is again
    assert check_photo(hopper, kept=kept, strict=True) is not again  # made as strictly, or checked again
    other = (EXAMPLES / "portraits" / "anna.jpg").read_bytes()
    assert check_photo(other, kept=kept).eyes != report.eyes


def test_photos_checked_in_many_threads_at_once_agree() -> None:
    """The service checks photos in a thread pool: threads must not share a cascade's working state."""
    photos = [p.read_bytes() for p in sorted((EXAMPLES / "portraits").glob("*.jpg"))[:4]]
    alone = [check_photo(raw).as_dict() for raw in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda i: check_photo(photos[i % 4]).as_dict(), range(24)))
    assert together == [alone[i % 4] for i in range(24)]


def test_detectors_outlive_the_threads_that_loaded_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service's worker threads come and go: a new thread borrows the network an old one loaded, and
    only callers at the same moment need one each."""
    loads: list[int] = []

    def counted() -> object:
        loads.append(threading.get_ident())
        return locate._load()

    monkeypatch.setattr(locate, "NETS", Pool(counted))
    raw = (EXAMPLES / "portraits" / "anna.jpg").read_bytes()
    for _ in range(4):  # one thread after another
        worker = threading.Thread(target=check_photo, args=(raw,))
        worker.start()
        worker.join()
    assert len(loads) == 1
    pool: Pool[object] = Pool(object)
    with pool.lent() as first, pool.lent() as second:  # held at once: two instances
        assert first is not second
    with pool.lent() as again:
        assert again in (first, second)


def test_every_rule_names_its_figure_and_clause() -> None:
    for rule in rules().values():
        assert rule.min is not None or rule.max is not None
        assert rule.clause.startswith("ISO/IEC 19794-5:2005")


def test_annotated_png_shows_the_failures_in_red() -> None:
    image, _ = _negatives()["rotated"]
    raw = _png(image)
    report = check_photo(raw)
    out = Image.open(io.BytesIO(annotated_png(raw, report))).convert("RGB")
    assert out.height > image.height  # the legend below the photo
    pixels = np.asarray(out)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    eyes = report.eyes
    assert eyes is not None
    x, y = (round(v) for v in eyes.midpoint)  # the eye line, drawn red for the tilt
    assert red[y - 3 : y + 4, x - 3 : x + 4].any()
    assert red[image.height :].any()  # and its legend line


def test_the_token_crop_puts_the_eyes_where_the_token_geometry_says() -> None:
    """Crop a tilted portrait, then find the eyes again in the crop: level, 0.25 W apart, 0.6 W down,
    centred (ISO/IEC 19794-5 clause 9). (Anna's: in Hopper's tight token crop the eye cascade loses the
    eyes behind her glasses frame.)"""
    anna = Image.open(EXAMPLES / "portraits" / "anna.jpg").convert("RGB")
    raw = _png(anna.rotate(4, resample=Image.Resampling.BICUBIC, fillcolor=(232, 236, 240)))
    token = token_image(raw, check_photo(raw))
    assert abs(token.width / token.height - 0.75) < 0.01
    again = check_photo(_png(token)).eyes
    assert again is not None
    want = token_eyes(token.width)
    assert math.dist(again.right, want.right) <= TOLERANCE
    assert math.dist(again.left, want.left) <= TOLERANCE
    assert abs(again.roll) < 2


def test_dg2_records_the_eye_centres_as_feature_points() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chip" / "lds"))
    import ldskit

    raw = (EXAMPLES / "portraits" / "anna.jpg").read_bytes()
    portrait = prepare_portrait(raw, eyes=check_photo(raw).eyes)
    image = ldskit.build(portrait=portrait, eyes_located=True)
    face = Dg2.decode(image.files["DG2"]).instances[0].face().faces[0]
    points = {(p.major, p.minor): p for p in face.points()}
    assert set(points) == {EYE_CENTRE_LEFT, EYE_CENTRE_RIGHT}
    want = token_eyes(face.width)
    assert all(p.kind == FEATURE_2D for p in points.values())
    assert (points[EYE_CENTRE_LEFT].x, points[EYE_CENTRE_LEFT].y) == (round(want.left[0]), round(want.left[1]))
    assert (points[EYE_CENTRE_RIGHT].x, points[EYE_CENTRE_RIGHT].y) == (round(want.right[0]), round(want.right[1]))
    assert points[EYE_CENTRE_LEFT].x > points[EYE_CENTRE_RIGHT].x  # the subject's left eye is on the viewer's right
    # Without located eyes, no points are claimed.
    plain = Dg2.decode(ldskit.build(portrait=portrait).files["DG2"]).instances[0].face().faces[0]
    assert plain.feature_points == ()


@given(st.integers(0, 255), st.integers(0, 15), st.integers(0, 15), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_feature_point_round_trip(kind: int, major: int, minor: int, x: int, y: int) -> None:
    point = FeaturePoint(kind, major, minor, x, y)
    block = point.encode()
    assert len(block) == 8 and FeaturePoint.decode(block) == point and block[-2:] == b"\0\0"


@settings(max_examples=40)
@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_mrtd_errors(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        check_photo(data)


def test_cli_check_and_crop(tmp_path: Path) -> None:
    runner = CliRunner()
    hopper = str(_hopper_path())
    annotated = tmp_path / "annotated.png"
    result = runner.invoke(main, ["photo", "check", hopper, "--annotate", str(annotated)])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output and "warn  eye-distance: 83.8 px (needs at least 90 px)" in result.output
    assert Image.open(annotated).format == "PNG"
    result = runner.invoke(main, ["photo", "check", hopper, "--strict", "--json"])
    assert result.exit_code == 1
    payload = envelope(result.output)
    assert payload["ok"] is False and {f["rule"] for f in payload["errors"]} == {"photo-eye-distance", "photo-background"}

    red = tmp_path / "red.png"
    _negatives()["not a face"][0].save(red)
    result = runner.invoke(main, ["photo", "check", str(red)])
    assert result.exit_code == 1 and "refused" in result.output and "FAIL  face: 0 (needs exactly 1)" in result.output

    out = tmp_path / "token.jpg"
    result = runner.invoke(main, ["photo", "crop", str(EXAMPLES / "portraits" / "anna.jpg"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (360, 480)
    result = runner.invoke(main, ["photo", "crop", str(red), "--out", str(tmp_path / "nope.png")])
    assert result.exit_code == 1 and not (tmp_path / "nope.png").exists()
