"""The state machine's Retry/Catch names are the library's error classes (they are API)."""

from __future__ import annotations

import json
import re

from tiktok_sync import errors


def definition(root) -> dict:
    text = (root / "statemachine" / "sync.asl.json").read_text()
    return json.loads(re.sub(r"\$\{\w+\}", "4", text))


def walk_states(states: dict):
    for name, state in states.items():
        yield name, state
        if state.get("Type") == "Map":
            yield from walk_states(state["ItemProcessor"]["States"])


def test_senders_retry_every_retryable_error(root):
    states = dict(walk_states(definition(root)["States"]))
    for sender in ("Send the audience members", "Send the events"):
        retried = {n for r in states[sender]["Retry"] for n in r["ErrorEquals"]}
        assert set(errors.RETRYABLE_ERROR_NAMES) - set(errors.LOCK_ERROR_NAMES) <= retried, sender
    assert set(errors.LOCK_ERROR_NAMES) <= {n for r in states["Prepare the destination"]["Retry"] for n in r["ErrorEquals"]}


CRASHES = {"Sandbox.Timedout", "Runtime.ExitError", "Runtime.OutOfMemory", "Lambda.Unknown"}


def test_lambda_crashes_are_retried_where_work_is_idempotent(root):
    """Senders are ledger-idempotent and split workers rewrite their own piece: a crash is retried (D10)."""
    states = dict(walk_states(definition(root)["States"]))
    for name in ("Send the audience members", "Send the events", "Split the piece", "Merge the pieces",
                 "Check the destination", "Prepare the destination", "Write the run report",
                 "Compare the partition", "Apply the delete guard"):
        retried = {n for r in states[name]["Retry"] for n in r["ErrorEquals"]}
        assert CRASHES <= retried, name


def test_every_named_error_in_the_definition_exists(root):
    names = set()
    for _, state in walk_states(definition(root)["States"]):
        for rule in state.get("Retry", []) + state.get("Catch", []):
            names.update(rule["ErrorEquals"])
        if state.get("Type") == "Fail" and "Error" in state:
            names.add(state["Error"])
    ours = {n for n in names if not n.startswith(("States.", "Lambda.", "Sandbox.", "Runtime."))}
    assert ours and all(isinstance(getattr(errors, n, None), type) for n in ours), ours


def test_every_task_has_a_retry_and_every_fallible_state_a_catch(root):
    for name, state in walk_states(definition(root)["States"]):
        if state.get("Type") == "Task":
            assert state.get("Retry"), name
        if state.get("Type") in ("Task", "Map"):
            assert state.get("Catch"), name


def test_a_mirror_run_compares_and_guards_before_anything_is_sent(root):
    """Prepare → (mirror) Compare map → guard → changes? → dry run? → Send: nothing reaches the Send map
    of a mirror run without passing the guard."""
    states = definition(root)["States"]
    assert states["Prepare the destination"]["Next"] == "Is it a mirror run?"
    mirror = states["Is it a mirror run?"]
    assert mirror["Choices"][0]["Next"] == "Compare with the audience" and mirror["Default"] == "Is it a dry run?"
    assert states["Compare with the audience"]["Next"] == "Apply the delete guard"
    assert states["Apply the delete guard"]["ResultPath"] == "$.merge"
    assert states["Apply the delete guard"]["Next"] == "Are there changes to send?"
    changes = states["Are there changes to send?"]
    assert {c["Next"] for c in changes["Choices"]} == {"Write the run report"}
    assert changes["Default"] == "Is it a dry run?"
    assert "MirrorLockedError" in {n for r in states["Prepare the destination"]["Retry"] for n in r["ErrorEquals"]}
