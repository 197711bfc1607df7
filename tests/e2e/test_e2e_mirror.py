"""Mirror audiences end to end on the real state machine: the snapshot, the diff with it, the delete
guard, a PARTIAL run resumed, a changed id_types, TikTok's size read back."""

from __future__ import annotations

import hashlib
import json

from conftest import accepted_requests, accounted

ADV = "7000000000000000001"
VIP = {"type": "audience", "advertiser_ids": [ADV], "audience_name": "VIP mirror", "id_types": ["EMAIL", "PHONE"],
       "mode": "mirror"}
CFG = {"destinations": {"vip": VIP}}


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def write(path, people) -> set[tuple[str, str]]:
    """An audience file of persons `people` (odd ones have a phone too); returns what TikTok must hold."""
    expected = set()
    with open(path, "w") as fh:
        fh.write("EMAIL,PHONE\n")
        for i in people:
            phone = f"(206) 555-{i:04d}" if i % 2 else ""
            fh.write(f"Person.{i}@Example.com,{phone}\n")
            expected.add(("EMAIL_SHA256", h(f"person.{i}@example.com")))
            if phone:
                expected.add(("PHONE_SHA256", h(f"+1206555{i:04d}")))
    return expected


def mapped(sim, action: str) -> list[tuple[str, str]]:
    """(id_schema, hash) of every id in accepted segment/mapping/ requests with `action`."""
    out = []
    for req in accepted_requests(sim, "segment/mapping"):
        body = req["body"]
        if body["action"] == action:
            out += [(schema, cell["id"]) for user in body["batch_data"]
                    for schema, cell in zip(body["id_schema"], user) if cell]
    return out


def run(pipe, sim, tmp_path, name: str, people, **kw) -> tuple[dict, set]:
    sim.reset_requests()
    expected = write(tmp_path / name, people)
    return pipe.run_file(str(tmp_path / name), "vip", **kw), expected


def test_mirror_add_shrink_grow_guard_dry_run_allowed_deletes(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    # 1. First run: everything is an add (100 people: 100 emails, 50 phones).
    first, expected = run(pipe, sim, tmp_path, "week1.csv", range(100))
    assert first["status"] == "SUCCEEDED", first.get("error")
    audience = first["audience"]["id"]
    assert sim.members(audience) == expected
    assert sorted(mapped(sim, "add")) == sorted(expected) and mapped(sim, "delete") == []
    assert first["rows"] == {"read": 100, "sent": 100, "rejected": 0, "skipped": 0, "failed": 0}
    assert first["diff"] == {"add": 150, "delete": 0, "unchanged": 0, "by_id_type": {
        "EMAIL_SHA256": {"add": 100, "delete": 0, "unchanged": 0},
        "PHONE_SHA256": {"add": 50, "delete": 0, "unchanged": 0}}}
    assert first["sent"]["EMAIL_SHA256"] == 100 and first["sent"]["PHONE_SHA256"] == 50
    assert first["audience"]["size"] == 150  # TikTok's own count, read back

    # A member added to the audience by other means: unknown to the snapshot, never deleted.
    outsider = ("EMAIL_SHA256", h("someone.else@example.com"))
    with sim.lock:
        sim.world.apply_mapping("add", {audience: [outsider]}, [ADV], sim.config.clock())

    # 2. Shrink: 10 people left the list (15 ids, 10% of the snapshot: under max_delete_share 0.2).
    shrink, expected = run(pipe, sim, tmp_path, "week2.csv", range(90))
    assert shrink["status"] == "SUCCEEDED", shrink.get("error")
    gone = {m for i in range(90, 100) for m in write(tmp_path / "x.csv", [i])}
    assert sorted(mapped(sim, "delete")) == sorted(gone) and mapped(sim, "add") == []
    assert sim.members(audience) == expected | {outsider}
    assert shrink["rows"] == {"read": 90, "sent": 0, "rejected": 0, "skipped": 90, "failed": 0}
    assert shrink["skipped_by_reason"] == {"unchanged": 90}
    assert shrink["sent"]["removed"] == 15
    assert (shrink["diff"]["add"], shrink["diff"]["delete"], shrink["diff"]["unchanged"]) == (0, 15, 135)
    assert accounted(shrink)

    # 3. Grow: 20 new people (30 ids) are the only ids sent.
    grow, expected = run(pipe, sim, tmp_path, "week3.csv", [*range(90), *range(200, 220)])
    assert grow["status"] == "SUCCEEDED"
    new = {m for i in range(200, 220) for m in write(tmp_path / "x.csv", [i])}
    assert sorted(mapped(sim, "add")) == sorted(new) and mapped(sim, "delete") == []
    assert sim.members(audience) == expected | {outsider}
    assert grow["rows"] == {"read": 110, "sent": 20, "rejected": 0, "skipped": 90, "failed": 0}
    assert (grow["diff"]["add"], grow["diff"]["delete"], grow["diff"]["unchanged"]) == (30, 0, 135)

    # 4. A file that lost most of the list: 90 deletes of 165 ids (55%) — refused before anything is sent.
    refused, _ = run(pipe, sim, tmp_path, "broken.csv", range(50))
    assert refused["status"] == "FAILED" and refused["error"]["name"] == "DeleteGuardError"
    assert "90 of the 165 ids" in refused["error"]["message"] and "allow_deletes" in refused["error"]["action"]
    assert not accepted_requests(sim, "segment/mapping")
    assert sim.members(audience) == expected | {outsider}
    assert refused["diff"]["delete"] == 90 and refused["rows"]["failed"] == 50 and accounted(refused)

    # 5. The same file as a dry run: the diff, a warning, nothing sent.
    dry, _ = run(pipe, sim, tmp_path, "broken.csv", range(50), dry_run=True)
    assert dry["status"] == "DRY_RUN"
    assert (dry["diff"]["add"], dry["diff"]["delete"], dry["diff"]["unchanged"]) == (0, 90, 75)
    assert any("would be refused by the delete guard" in w for w in dry["warnings"])
    assert not accepted_requests(sim, "segment/mapping")

    # 6. Started again with allow_deletes: the deletes go through; TikTok holds exactly the file (+ the outsider).
    allowed, expected = run(pipe, sim, tmp_path, "broken.csv", range(50), options={"allow_deletes": True})
    assert allowed["status"] == "SUCCEEDED", allowed.get("error")
    assert len(mapped(sim, "delete")) == 90 and mapped(sim, "add") == []
    assert sim.members(audience) == expected | {outsider}
    assert allowed["sent"]["removed"] == 90 and allowed["skipped_by_reason"] == {"unchanged": 50}
    assert any("delete guard was lifted" in w for w in allowed["warnings"])
    assert allowed["audience"]["size"] == len(expected) + 1


def test_refused_run_dropped_again_with_allow_deletes_continues(make_pipeline, sim, tmp_path):
    """A run the guard refused is continued by starting the same source again with allow_deletes."""
    pipe = make_pipeline(CFG)
    run(pipe, sim, tmp_path, "all.csv", range(40))
    refused, expected = run(pipe, sim, tmp_path, "few.csv", range(10))
    assert refused["error"]["name"] == "DeleteGuardError"
    sfn = pipe.aws.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=pipe.state_machine_arn, input=json.dumps({
        "destination": "vip", "source": {"bucket": pipe.bucket, "key": "incoming/vip/few.csv"},
        "options": {"allow_deletes": True}}))["executionArn"]
    done = pipe.follow(arn, progress=lambda m: None)
    assert done["status"] == "SUCCEEDED" and done["run_id"] == refused["run_id"] and done["attempt"] == 2
    assert sim.members(done["audience"]["id"]) == expected


def test_partial_mirror_run_leaves_the_snapshot_exact_and_a_resume_finishes(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG, parameters={"PartSize": "100", "MapConcurrency": "1"})
    first, _ = run(pipe, sim, tmp_path, "base.csv", range(300))
    assert first["status"] == "SUCCEEDED" and first["partitions"]["total"] > 2
    audience = first["audience"]["id"]
    # 30 people leave, 30 join (45 ids each way); the token stops working after 3 mapping requests.
    sim.faults.revoke_token_after("sim-access-token", calls=3, path="segment/mapping")
    partial, expected = run(pipe, sim, tmp_path, "next.csv", range(30, 330))
    assert partial["status"] == "PARTIAL", partial.get("error")
    assert partial["error"]["name"] == "InvalidCredentialsError" and accounted(partial)
    deleted, added = set(mapped(sim, "delete")), set(mapped(sim, "add"))
    assert 0 < len(deleted) + len(added) < 90
    # The snapshot holds exactly what TikTok accepted: a dry run now shows only what is still missing.
    sim.add_token("sim-access-token-2", advertiser_ids=[ADV])
    pipe.aws.client("secretsmanager").put_secret_value(SecretId="tiktok/default",
                                                       SecretString=json.dumps({"access_token": "sim-access-token-2"}))
    dry, _ = run(pipe, sim, tmp_path, "next.csv", range(30, 330), dry_run=True)
    assert (dry["diff"]["delete"], dry["diff"]["add"]) == (45 - len(deleted), 45 - len(added))
    # The same bytes dropped again continue the run: the rest is sent, nothing twice.
    resumed, _ = run(pipe, sim, tmp_path, "next.csv", range(30, 330))
    assert resumed["status"] == "SUCCEEDED", resumed.get("error")
    assert resumed["run_id"] == partial["run_id"] and resumed["attempt"] == 2
    assert not deleted & set(mapped(sim, "delete")) and not added & set(mapped(sim, "add"))
    assert len(deleted) + len(mapped(sim, "delete")) == 45 and len(added) + len(mapped(sim, "add")) == 45
    assert sim.members(audience) == expected
    assert resumed["rows"]["sent"] + resumed["rows"]["skipped"] == 300 and accounted(resumed)


def test_changed_id_types_start_a_new_snapshot_and_delete_nothing(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    first, before = run(pipe, sim, tmp_path, "a.csv", range(20))
    audience = first["audience"]["id"]
    emails_only = {"destinations": {"vip": dict(VIP, id_types=["EMAIL"])}}
    pipe.aws.client("s3").put_object(Bucket=pipe.bucket, Key="config/destinations.json",
                                     Body=json.dumps(emails_only).encode())
    second, _ = run(pipe, sim, tmp_path, "b.csv", range(10))
    assert second["status"] == "SUCCEEDED", second.get("error")
    assert any("id types (were EMAIL_SHA256, PHONE_SHA256, now EMAIL_SHA256) changed" in w and "not deleted" in w
               for w in second["warnings"])
    assert mapped(sim, "delete") == []  # a new snapshot: nothing it could delete
    assert len(mapped(sim, "add")) == 10 and second["diff"]["add"] == 10
    assert sim.members(audience) == before  # the phones and the other 10 people stay
    # The new snapshot is used from now on: the next run of emails only deletes from it alone.
    third, _ = run(pipe, sim, tmp_path, "c.csv", range(9))
    assert third["status"] == "SUCCEEDED" and third["diff"]["delete"] == 1 and third["sent"]["removed"] == 1
    assert ("EMAIL_SHA256", h("person.9@example.com")) not in sim.members(audience)


def test_refused_id_is_rejected_kept_out_of_the_snapshot_and_tried_again(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    bad = h("person.3@example.com")
    sim.faults.refuse(bad, path="segment/mapping")
    first, expected = run(pipe, sim, tmp_path, "a.csv", range(8))
    assert first["status"] == "SUCCEEDED"
    assert first["rows"] == {"read": 8, "sent": 7, "rejected": 1, "skipped": 0, "failed": 0}
    assert first["rejected_by_reason"] == {"rejected_by_api": 1}
    assert sim.members(first["audience"]["id"]) == expected - {("EMAIL_SHA256", bad)}
    sim.faults.clear()
    second, expected = run(pipe, sim, tmp_path, "b.csv", range(8), options={"force": True})
    assert second["diff"]["add"] == 1 and mapped(sim, "add") == [("EMAIL_SHA256", bad)]
    assert second["rows"]["sent"] == 1 and second["skipped_by_reason"] == {"unchanged": 7}
    assert sim.members(second["audience"]["id"]) == expected


def test_audience_size_unreadable_or_not_reported_yet_is_a_warning(make_pipeline, sim, tmp_path):
    pipe = make_pipeline(CFG)
    # A first run looks the audience up by name; only the report reads it by id (dmp/custom_audience/get/).
    sim.faults.http_error(status=500, calls=50, path="custom_audience/get", html=False)
    first, _ = run(pipe, sim, tmp_path, "a.csv", range(5))
    assert first["status"] == "SUCCEEDED" and first["audience"]["size"] is None
    assert any("could not read the audience's size" in w and "outcome is unaffected" in w for w in first["warnings"])
    sim.faults.clear()
    sim.config.update({"cover_num_delay_seconds": 3600})  # TikTok still calculating
    second, _ = run(pipe, sim, tmp_path, "b.csv", range(6))
    assert second["status"] == "SUCCEEDED" and second["audience"]["size"] is None
    assert any("no size for the audience yet" in w and "48 hours" in w for w in second["warnings"])


def test_progress_of_a_mirror_run_counts_rows_and_the_partitions_it_sends(make_pipeline, sim, tmp_path):
    """The split line counts rows (not the id lines mirror partitions hold); the partitions counted are
    the ones sent: those with changes after the comparison with the snapshot."""
    pipe = make_pipeline(CFG, parameters={"PartSize": "100"})
    run(pipe, sim, tmp_path, "week1.csv", range(800))
    lines: list[str] = []
    shrink, _ = run(pipe, sim, tmp_path, "week2.csv", range(798), progress=lines.append)
    assert shrink["status"] == "SUCCEEDED" and shrink["sent"]["removed"] == 3
    sent = shrink["partitions"]["total"]
    assert 1 <= sent <= 3  # the partitions of the 3 deleted ids
    split = next(line for line in lines if line.startswith("split: "))
    assert split.startswith("split: 798 valid row(s) in ") and int(split.split(" in ")[1].split()[0]) >= 8
    assert ("compared with the snapshot: 0 id(s) to add, 3 to delete, 1,197 unchanged; "
            f"{sent} partition(s) with changes to send") in lines
    assert lines[-1] == f"partitions done {sent}/{sent}"
