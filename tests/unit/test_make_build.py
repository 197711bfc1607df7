"""`make build` on the documented set-up (issue 7 item 10, F28/F36): it says what to do rather than
failing inside sam, builds in a container when only Docker is there, and `make invoke` builds first.
The sam, python3.12 and docker on PATH here are stand-ins that record how they were called."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _stub(directory: pathlib.Path, name: str, script: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


TOOLS = ("make", "sh", "cat", "cksum", "cut", "sed", "awk")  # what the Makefile's build and invoke use


def _make(tmp_path, target: str, *, sam: bool = True, python312: bool = False, docker: bool = False):
    """make TARGET with a PATH of stand-ins and the few system tools the Makefile needs: nothing else of
    this machine (its own python3.12 or docker) is seen."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in TOOLS:
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "calls.log"
    if sam:
        _stub(bin_dir, "sam", f'echo "sam $*" >> {log}')
    if python312:
        _stub(bin_dir, "python3.12", "exit 0")
    _stub(bin_dir, "docker", "exit 0" if docker else "echo 'Cannot connect to the Docker daemon' >&2; exit 1")
    done = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls


def test_without_sam_it_says_how_to_install_it(tmp_path):
    done, calls = _make(tmp_path, "build", sam=False)
    assert done.returncode != 0 and "needs the AWS SAM CLI: pip install aws-sam-cli" in done.stdout


def test_with_python_3_12_it_builds_natively(tmp_path):
    done, calls = _make(tmp_path, "build", python312=True, docker=True)
    assert done.returncode == 0 and calls == ["sam build"]


def test_without_python_3_12_it_builds_in_a_container_when_docker_answers(tmp_path):
    done, calls = _make(tmp_path, "build", docker=True)
    assert done.returncode == 0 and calls == ["sam build --use-container"]


def test_without_either_it_says_what_to_do_and_never_runs_sam(tmp_path):
    done, calls = _make(tmp_path, "build")
    assert done.returncode != 0 and calls == []
    assert "put Python 3.12 on PATH" in done.stdout and "start a Docker engine" in done.stdout


def test_invoke_builds_first(tmp_path):
    done, calls = _make(tmp_path, "invoke", python312=True)
    assert done.returncode == 0
    assert calls == ["sam build", "sam local invoke SplitFunction -e events/functions/split.json"]
