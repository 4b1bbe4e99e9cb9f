"""k*B on every curve of Doc 9303-11 §9.5.1 agrees with fastecdsa's own scalar multiplication, whichever
library `Domain.mul` takes it from (OpenSSL's ECDH on P-256 and P-521)."""

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
