"""An application as the records keep it (`application_payload` and its images), made an `Application`
again: for producing a queued application on any API node, for a replacement, for a reprint.

`application_json` is the inverse of `pipeline.application_payload`: the payload back in the shape of an
application file (the JSON Schema's), so it goes through the very same intake checks. The images are
written to a private temporary folder for the length of a `with` block, because intake and the pipeline
read images from files.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mrtd.errors import InputError
from mrtd.issuance.application import application_from_dict
from mrtd.issuance.photo import PhotoChecks
from mrtd.issuance.pipeline import application_key, application_payload
from mrtd.model import Application
from mrtd.mrz import NameOptions

IMAGE_FILES = {"portrait": "portrait.img", "signature": "signature.img"}
_SECTIONS = ("document", "holder")


def _present(value: object) -> bool:
    return value not in (None, "", [], {})


def application_json(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The stored payload as an application file's JSON (images named by their file in `IMAGE_FILES`)."""
    document = {k: v for k, v in payload["document"].items() if _present(v) and k != "requested_number"}
    if _present(payload["document"].get("requested_number")):
        document["number"] = payload["document"]["requested_number"]
    out: dict[str, Any] = {
        "document": document,
        "holder": {k: v for k, v in payload["holder"].items() if _present(v)},
    }
    for kind, name in IMAGE_FILES.items():
        if payload.get(f"{kind}_sha256"):
            out[kind] = name
    if payload.get("extra"):
        out["extra"] = dict(payload["extra"])
    return out


def merge_changes(data: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` laid over an application's JSON: the `document`, `holder` and `extra` objects merge key by
    key (a null removes the key), anything else is replaced."""
    out = copy.deepcopy(dict(data))
    for key, value in changes.items():
        if key in (*_SECTIONS, "extra") and isinstance(value, Mapping):
            section = dict(out.get(key) or {})
            for k, v in value.items():
                if v is None:
                    section.pop(k, None)
                else:
                    section[k] = v
            out[key] = section
        elif value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


@contextmanager
def materialised(data: Mapping[str, Any], images: Mapping[str, bytes], *, names: NameOptions,
                 source: str, today: dt.date | None = None, photos: PhotoChecks | None = None) -> Iterator[Application]:
    """The application `data` (an application file's JSON whose image fields name keys of `images`),
    checked by intake, with its images in a private temporary folder for the block's length. `photos`:
    photo checks already made (`Casework.photo_checks`), not made again."""
    folder = Path(tempfile.mkdtemp(prefix="mrtd-application-"))
    try:
        os.chmod(folder, 0o700)
        for name, raw in images.items():
            if not name or "/" in name or "\\" in name or name in (".", ".."):
                raise InputError(f"images: {name!r} is not a plain file name")
            (folder / name).write_bytes(raw)
        yield application_from_dict(data, folder, source, names=names, today=today, photos=photos)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def stored_application(payload: Mapping[str, Any], images: Mapping[str, bytes], *, names: NameOptions,
                       source: str, photos: PhotoChecks | None = None) -> Iterator[Application]:
    """The application the records keep, exactly: its key must come out the same."""
    files = {IMAGE_FILES[kind]: data for kind, data in images.items()}
    with materialised(application_json(payload), files, names=names, source=source, photos=photos) as app:
        if application_payload(app) != dict(payload):
            raise InputError(f"{source}: the stored application does not read back to the same content")
        yield app


__all__ = ["application_json", "application_key", "materialised", "merge_changes", "stored_application"]
