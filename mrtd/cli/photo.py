"""`mrtd photo check|crop`: is a photo fit to be a portrait, and the ICAO token crop made from it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from mrtd.chip.portrait import prepare_portrait
from mrtd.cli._common import EXIT_FINDINGS, EXIT_OK, emit_json, guarded, json_option
from mrtd.cli.output import verdict
from mrtd.errors import InputError, ValidationError
from mrtd.issuance.photo import PhotoReport, annotated_png, check_photo, token_image
from mrtd.limits import read_file

_image = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def photo() -> None:
    """Portrait photos: the ICAO / ISO/IEC 19794-5 checks and the token crop."""


@photo.command("check")
@click.argument("image", type=_image)
@click.option("--annotate", "annotate", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the photo with what was measured and what failed (PNG).")
@click.option("--strict", is_flag=True, help="Refuse on warnings too (framing, background, resolution below 90 px).")
@json_option
@guarded
def check(image: Path, annotate: Path | None, strict: bool, as_json: bool) -> None:
    """Find the face and eyes in IMAGE and hold each measurement to its ICAO / ISO figure.

    Exit status: 0 when the photo is accepted (warnings may be listed), 1 when it is refused."""
    raw = read_file(image, "photo")
    report = check_photo(raw, strict=strict)
    if annotate is not None:
        annotate.write_bytes(annotated_png(raw, report))
    if as_json:
        emit_json({"image": str(image), **report.as_dict(), "annotated": str(annotate) if annotate else None},
                  **verdict(report.ok, report.findings()))
    else:
        _print(image, report)
        if annotate is not None:
            click.echo(f"annotated: {annotate}")
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@photo.command("crop")
@click.argument("image", type=_image)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The token image: .png (at the photo's own resolution), or .jpg / .jp2 as DG2 carries it.")
@click.option("--budget", type=click.IntRange(2_000, 200_000), default=20_000, show_default=True,
              help="Bytes, for .jpg and .jp2.")
@json_option
@guarded
def crop(image: Path, out: Path, budget: int, as_json: bool) -> None:
    """Write the ICAO token frontal crop of IMAGE, made from the eye centres the check finds.

    Refused (exit 1, nothing written) when the photo check refuses the photo."""
    raw = read_file(image, "photo")
    report = check_photo(raw)
    if not report.ok:
        raise ValidationError(report.findings("portrait"), source=str(image))
    suffix = out.suffix.lower()
    if suffix == ".png":
        buf = io.BytesIO()
        token_image(raw, report).save(buf, "PNG", optimize=True)
        data = buf.getvalue()
    elif suffix in (".jpg", ".jpeg", ".jp2"):
        data = prepare_portrait(raw, budget=budget, fmt="jp2" if suffix == ".jp2" else "jpeg", eyes=report.eyes)
    else:
        raise InputError(f"--out: {out.name} is not .png, .jpg or .jp2")
    out.write_bytes(data)
    if as_json:
        emit_json({"out": str(out), "bytes": len(data), "eyes": report.as_dict()["eyes"]},
                  warnings=report.findings())
    else:
        for f in report.findings():
            click.echo(f"  warning: {f.message} ({f.rule}) [{f.clause}]")
        click.echo(f"{out}: token image, {len(data)} bytes")


def _print(image: Path, report: PhotoReport) -> None:
    verdict = "accepted" if report.ok else "refused"
    click.echo(f"{image}: {verdict} ({report.width}x{report.height} px)")
    if report.eyes is not None:
        r, le = report.eyes.right, report.eyes.left
        click.echo(f"  eyes: right ({r[0]:.1f}, {r[1]:.1f}), left ({le[0]:.1f}, {le[1]:.1f}) (the subject's)")
    for c in report.checks:
        if c.status == "unmeasured":
            click.echo(f"  ----  {c.rule.name}: not measured ({c.detail})")
            continue
        refuses = report.strict or c.rule.severity.value == "error"
        tag = "pass" if c.status == "pass" else "FAIL" if refuses else "warn"
        value = c.rule.amount(c.value) if c.value is not None else "-"
        click.echo(f"  {tag}  {c.rule.name}: {value} (needs {c.rule.figure}) [{c.rule.clause}]")
