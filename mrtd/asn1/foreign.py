"""The door for foreign bytes: what the libraries raise when they read them, turned into `EncodingError`.

cryptography parses certificates lazily (an extension is parsed when first asked for), Pillow and pyasn1
raise their own families; anything read from outside goes through `reading`, so that only `MrtdError`
ever leaves mrtd, naming the structure that could not be read.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from pyasn1.error import PyAsn1Error

from mrtd.errors import EncodingError, MrtdError

LIBRARY_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, IndexError, KeyError, OverflowError, AttributeError, UnicodeError, RecursionError,
    UnsupportedAlgorithm, x509.DuplicateExtension, x509.InvalidVersion, x509.UnsupportedGeneralNameType,
    PyAsn1Error, zlib.error, EOFError, SyntaxError,
)  # fmt: skip


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Run a library on foreign bytes; its exceptions become `EncodingError` naming `what`."""
    try:
        yield
    except MrtdError:
        raise
    except LIBRARY_ERRORS as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise EncodingError(f"{what}: cannot be read ({type(exc).__name__}{': ' + detail if detail else ''})") from None
