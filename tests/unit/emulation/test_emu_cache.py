"""Work kept between processes: by content, private to the user, never trusted when damaged."""

import json
import os

import pytest

from tiktok_sync_local.emulation import cache
from tiktok_sync_local.emulation.patches import ParsedDefinitionsPatch

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": True}, "End": True}}})


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOK_SYNC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_files_are_kept_private_and_read_back(cache_dir):
    cache.write("kind", "abc", ".bin", b"data")
    assert cache.read("kind", "abc", ".bin") == b"data"
    assert cache.read("kind", "other", ".bin") is None
    assert oct((cache_dir / "kind-abc.bin").stat().st_mode & 0o777) == "0o600"
    assert oct(cache_dir.stat().st_mode & 0o777) == "0o700"
    os.chmod(cache_dir / "kind-abc.bin", 0o666)  # anyone may write it: not trusted
    assert cache.read("kind", "abc", ".bin") is None


def test_the_oldest_files_of_a_kind_go(cache_dir, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 2)
    for number in range(4):
        cache.write("kind", str(number), ".bin", b"x")
        os.utime(cache_dir / f"kind-{number}.bin", (number, number))
    cache.write("other", "0", ".bin", b"x")
    assert sorted(p.name for p in cache_dir.iterdir()) == ["kind-2.bin", "kind-3.bin", "other-0.bin"]


def test_off_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOK_SYNC_CACHE_DIR", "off")
    cache.write("kind", "abc", ".bin", b"data")
    assert cache.read("kind", "abc", ".bin") is None


def _parse_with_a_new_patch(definition):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    patch = ParsedDefinitionsPatch()  # a new process: nothing parsed in memory
    patch.install()
    try:
        return AmazonStateLanguageParser.parse(definition), AmazonStateLanguageParser.parse(definition)
    finally:
        patch.uninstall()


def test_a_definition_is_parsed_once_and_its_program_kept_for_the_next_process(cache_dir):
    pytest.importorskip("moto.stepfunctions.parser.asl.parse.asl_parser")
    (program, tree), again = _parse_with_a_new_patch(DEFINITION)
    assert tree is not None and again[0] is program  # one program for every execution
    assert len(list(cache_dir.glob("asl-*.pickle"))) == 1
    (kept, no_tree), _ = _parse_with_a_new_patch(DEFINITION)
    assert no_tree is None and type(kept) is type(program)  # read back, not parsed
    assert kept.start_at.start_at_name == program.start_at.start_at_name
    (file,) = cache_dir.glob("asl-*.pickle")
    file.write_bytes(b"damaged")
    (reparsed, tree), _ = _parse_with_a_new_patch(DEFINITION)
    assert tree is not None  # parsed again


def test_a_definition_that_does_not_parse_is_never_kept(cache_dir):
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException

    with pytest.raises(ASLParserException):
        _parse_with_a_new_patch('{"StartAt": ')
    assert not cache_dir.exists() or not list(cache_dir.glob("asl-*"))
