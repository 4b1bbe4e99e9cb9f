"""OpenSSL's point multiplication through ctypes (`ec_openssl`) against fastecdsa's, on every curve of Doc
9303-11 §9.5.1: multiples of the generator and of other points, the point at infinity, and points off the
curve refused."""

from __future__ import annotations

import os

import pytest

from mrtd.asn1.keys import curve_named
from mrtd.chip.protocol import ec_openssl
from mrtd.chip.protocol.curves import _NATIVE, domain
from mrtd.errors import EncodingError
from tests.conftest import require

EC_IDS = range(8, 19)


def _oid(param_id: int) -> str:
    oid = curve_named(domain(param_id).curve_name).oid
    require(ec_openssl.available(oid), f"the system's libcrypto with {domain(param_id).curve_name}")
    return oid


def _random_scalar(n: int) -> int:
    return int.from_bytes(os.urandom((n.bit_length() + 7) // 8 + 8), "big") % (n - 1) + 1


@pytest.mark.parametrize("param_id", EC_IDS)
def test_multiples_agree_with_fastecdsa(param_id: int) -> None:
    d, oid = domain(param_id), _oid(param_id)
    g = d.params.G
    base = g * _random_scalar(d.order)
    for k in [1, 2, d.order - 1, *(_random_scalar(d.order) for _ in range(5))]:
        assert ec_openssl.mul(oid, d.size, k, None) == d.encode(g * k), (d.curve_name, k)
        assert ec_openssl.mul(oid, d.size, k, d.encode(base)) == d.encode(base * k), (d.curve_name, k)


@pytest.mark.parametrize("param_id", [12, 13])
def test_the_point_at_infinity_comes_back_as_none(param_id: int) -> None:
    d, oid = domain(param_id), _oid(param_id)
    base = d.params.G * 5
    assert ec_openssl.mul(oid, d.size, d.order, d.encode(base)) is None
    if d.curve_name in _NATIVE:
        with pytest.raises(EncodingError, match="infinity"):
            d.mul(d.order, base)


@pytest.mark.parametrize("param_id", [12, 13, 18])
def test_a_point_off_the_curve_is_refused_and_the_next_call_works(param_id: int) -> None:
    d, oid = domain(param_id), _oid(param_id)
    good = d.encode(d.params.G * 3)
    bad = good[:-1] + bytes([good[-1] ^ 1])  # y changed: no longer on the curve
    with pytest.raises(EncodingError, match="not on the curve"):
        ec_openssl.mul(oid, d.size, 7, bad)
    assert ec_openssl.mul(oid, d.size, 7, good) == d.encode(d.params.G * 21)


def test_the_fast_curves_are_served_by_openssl() -> None:
    for param_id in EC_IDS:
        d = domain(param_id)
        if d.curve_name in _NATIVE:
            _oid(param_id)
            assert d._oid is not None, d.curve_name


def test_threads_share_a_curve() -> None:
    """ctypes lets go of the GIL during each call, so threads multiply on one EC_GROUP at once (OpenSSL takes
    it as const); every product stays right."""
    from concurrent.futures import ThreadPoolExecutor

    d, oid = domain(12), _oid(12)
    base = d.params.G * 12345
    jobs = [(_random_scalar(d.order), i % 2 == 0) for i in range(400)]

    def product(job: tuple[int, bool]) -> bool:
        k, on_generator = job
        point = None if on_generator else d.encode(base)
        want = d.params.G * k if on_generator else base * k
        return ec_openssl.mul(oid, d.size, k, point) == d.encode(want)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(product, jobs))
