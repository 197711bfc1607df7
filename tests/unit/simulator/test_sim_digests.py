"""The simulator's compact member set behaves as a set of bytes (differential over random digests)."""

from __future__ import annotations

import hashlib
import random

import pytest

from tiktok_sync_local.simulator.digests import DigestSet


def digests(n, seed=1, width=32):
    rng = random.Random(seed)
    return [hashlib.sha256(rng.randbytes(8)).digest()[:width] for _ in range(n)]


@pytest.mark.parametrize("width", [32, 16])
def test_a_digest_set_is_a_set_of_its_digests(width):
    rng = random.Random(7)
    pool = digests(5000, width=width)
    held, model = DigestSet(width), set()
    for _ in range(20):
        adds = rng.sample(pool, 700)
        drops = rng.sample(pool, 300)
        held.update(adds)
        model.update(adds)
        held.difference_update(drops)
        model.difference_update(drops)
        assert len(held) == len(model)
    assert set(held) == model and sorted(held) == sorted(model)
    assert all(d in held for d in model) and not any(d in held for d in set(pool) - model)
    assert set(DigestSet.from_packed(held.packed(), width)) == model


def test_a_match_across_two_records_is_not_a_member():
    a = bytes([0, 1]) + bytes(range(2, 16)) + bytes([0, 1]) + bytes(range(18, 32))
    b = bytes([0, 1]) + bytes(range(40, 70))
    held = DigestSet(32, [a, b])  # one bucket (both start 00 01): a then b, end to end
    across = (a + b)[16:48]  # a's second half and b's first: found at offset 16, not a record
    assert across[:2] == bytes([0, 1]) and across not in held
    held.add(across)
    assert len(held) == 3 and across in held
    held.discard(across)
    assert set(held) == {a, b}


def test_adding_twice_and_dropping_what_is_absent_change_nothing():
    a, b = digests(2)
    held = DigestSet(32, [a, a])
    held.discard(b)
    assert len(held) == 1 and list(held) == [a]


def test_a_digest_of_another_width_is_refused():
    with pytest.raises(ValueError):
        DigestSet(32).add(b"short")
    assert b"short" not in DigestSet(32)
