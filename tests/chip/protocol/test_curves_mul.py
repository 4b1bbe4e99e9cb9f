"""k*B on every curve of Doc 9303-11 §9.5.1 agrees with fastecdsa's own scalar multiplication, whichever
library `Domain.mul` takes it from (OpenSSL's EC_POINT_mul on P-224, P-256, P-521 and the large brainpool
curves)."""

from __future__ import annotations

import os

import pytest

from mrtd.chip.protocol.curves import domain

EC_IDS = range(8, 19)


@pytest.mark.parametrize("param_id", EC_IDS)
def test_a_multiple_of_any_base_point_is_the_reference_point(param_id: int) -> None:
    d = domain(param_id)
    n = d.order
    base = d.params.G * (int.from_bytes(os.urandom(d.size), "big") % (n - 1) + 1)  # not the generator
    ks = [1, 2, 3, n - 2, n - 1] + [int.from_bytes(os.urandom(d.size + 8), "big") % (n - 1) + 1 for _ in range(20)]
    for k in ks:
        want = base * k  # fastecdsa, the reference
        got = d.mul(k, base)
        assert (int(got.x), int(got.y)) == (int(want.x), int(want.y)), (d.curve_name, k)
    assert d.mul(n + 5, base) == d.mul(5, base)  # the scalar is taken mod n


@pytest.mark.parametrize("param_id", EC_IDS)
def test_the_ecdh_secret_is_the_x_of_the_product(param_id: int) -> None:
    d = domain(param_id)
    base = d.params.G * 7
    k = int.from_bytes(os.urandom(d.size), "big") % (d.order - 1) + 1
    assert d.shared_secret(k, base) == int((base * k).x).to_bytes(d.size, "big")


@pytest.mark.parametrize("param_id", EC_IDS)
def test_without_openssls_own_arithmetic_the_other_libraries_agree(param_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system has no libcrypto, cryptography and fastecdsa give the same points."""
    from mrtd.chip.protocol import curves

    monkeypatch.setattr(curves, "_NATIVE", frozenset())
    d = curves.Domain(param_id, domain(param_id).params)  # a new instance: nothing cached
    assert d._oid is None
    base = d.params.G * 11
    k = int.from_bytes(os.urandom(d.size + 8), "big") % (d.order - 1) + 1
    assert d.encode(d.mul(k, base)) == d.encode(domain(param_id).mul(k, base)) == d.encode(base * k)
    assert d.encode(d.mul(k, d.generator)) == d.encode(d.params.G * k)
    assert d.shared_secret(k, base) == domain(param_id).shared_secret(k, base)
