"""The Python package, installed from its wheel: the golden fixtures the Rust and JS layers
replay (so all three answer the same), bundles verified with every check, typed errors with
the stable codes, and scope filters as SQL run in SQLite."""

import base64
import json
import os
import pathlib
import sqlite3
import threading
from datetime import datetime

import pytest

import fieldgate
from fieldgate import Bundle, BundleError, FieldgateError, Policy, PolicyError, RequestError, SqlError

ROOT = pathlib.Path(os.environ.get("FIELDGATE_ROOT", pathlib.Path(__file__).parents[2]))
BUNDLES = pathlib.Path(os.environ.get("FIELDGATE_TEST_BUNDLES", ROOT / "target/py-work"))
SAMPLE = (ROOT / "examples/acme-erp.policy.json").read_text()
FIXTURES = sorted((ROOT / "tests/fixtures/core").glob("*.json"))


def trusted_key():
    return (BUNDLES / "trusted/signing.pub").read_text().strip()


def answer(policy, r):
    """One golden request through the Python API, as `fieldgate eval` answers it."""
    try:
        if "subject" not in r:
            raise RequestError("bad_request", "no subject")
        # A request's own time (dated access); the clock otherwise.
        now = r.get("now")
        try:
            at = None if now is None else round(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError as e:
            raise RequestError("bad_request", f"`now` is not an RFC 3339 time: {e}")
        s = policy.session(r["subject"], now_ms=at)
        got = {}
        record, context = r.get("record"), r.get("context")
        if "action" in r:
            got["allow"] = s.can(r["action"], r["resource"], record, context)
        if "transition" in r:
            if record is None:
                raise RequestError("bad_request", "a transition needs a record")
            found = [t for t in s.transitions(r["resource"], record, context) if t["transition"] == r["transition"]]
            if not found:
                raise RequestError("unknown_action", "no such transition")
            got["allow"] = found[0]["allowed"]
            got["transition"] = found[0]
        if r.get("transitions"):
            got["transitions"] = s.transitions(r["resource"], record, context)
        if "mode" in r:
            got["fields"] = s.fields(r["resource"], r["mode"], record, context)
            if r.get("redact"):
                got["record"] = s.redact(r["resource"], r["mode"], record, context)
            if "formData" in r:
                got["writable"] = s.writable(r["resource"], r["mode"], r["formData"], record, context)
        return got
    except FieldgateError as e:
        return {"error": {"code": e.code}}


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_golden_fixtures_answer_as_rust_and_js_do(path):
    fixture = json.loads(path.read_text())
    source = fixture["policy"]
    text = (ROOT / source).read_text() if isinstance(source, str) else json.dumps(source)
    policy = Policy.from_json(text)
    assert fixture["cases"], path
    for case in fixture["cases"]:
        got = answer(policy, case["request"])
        want = case["expect"]
        if "error" in want:
            assert got.get("error", {}).get("code") == want["error"]["code"], case.get("name")
        else:
            assert got == want, case.get("name")


def test_a_policy_with_mistakes_names_each_with_its_path():
    doc = json.loads(SAMPLE)
    doc["roles"]["sales"]["grants"][0]["fields"]["phon"] = "masked"
    doc["roles"]["sales"]["grants"][0]["resource"] = "customr"
    with pytest.raises(PolicyError) as e:
        Policy.from_json(json.dumps(doc))
    paths = {p for (_, _, p) in e.value.errors}
    assert "roles.sales.grants[0].resource" in paths, e.value.errors
    assert e.value.code == e.value.errors[0][0]
    with pytest.raises(PolicyError) as e:
        Policy.from_json("{")
    assert e.value.code == "bad_json"
    assert isinstance(e.value, FieldgateError)
    # Every code raised is in the registry's list, with what it means.
    assert {c for (c, _, _) in e.value.errors} <= set(fieldgate.errors.CODES)
    assert fieldgate.errors.CODES["bad_json"] == "The input is not valid JSON."


def test_bundles_verify_with_every_check():
    key = trusted_key()
    for name in ["v3.json", "v4.bin"]:
        data = (BUNDLES / name).read_bytes()
        b = Bundle.verify(data, trusted_keys=[key], app="acme-erp", min_version=3)
        assert b.version == int(name[1])
        assert b.policy.app == "acme-erp"
        assert b.key_ids and b.expires_at_ms > b.issued_at_ms
        s = b.policy.session({"id": "u-alice", "department": "sales-east"})
        assert s.can("edit", "customer", {"owner_id": "u-alice"}) is True
    data = (BUNDLES / "v3.json").read_bytes()
    cases = [
        (dict(trusted_keys=[key], min_version=4), "rollback"),
        (dict(trusted_keys=[key], app="crm"), "wrong_app"),
        (dict(trusted_keys=[(BUNDLES / "other/signing.pub").read_text().strip()]), "untrusted_key"),
        (dict(trusted_keys=[key], now_ms=10**15), "expired"),
        (dict(trusted_keys=[key], max_bytes=100), "too_large"),
        (dict(trusted_keys=["not base64!"]), "bad_key"),
        (dict(trusted_keys=[]), "bad_key"),
    ]
    for kwargs, code in cases:
        with pytest.raises(BundleError) as e:
            Bundle.verify(data, **kwargs)
        assert e.value.code == code, (kwargs, e.value)
    tampered = json.loads(data)
    body = json.loads(base64.b64decode(tampered["payload"]))
    body["roles"]["sales"]["grants"][0]["fields"]["bank_account"] = "editable"
    tampered["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(BundleError) as e:
        Bundle.verify(json.dumps(tampered).encode(), trusted_keys=[key])
    assert e.value.code == "bad_signature"


def test_a_minimized_bundle_answers_for_its_user_only():
    b = Bundle.verify((BUNDLES / "alice.json").read_bytes(), trusted_keys=[trusted_key()], user="u-alice")
    assert b.policy.session({"id": "u-alice"}).can("view", "customer")
    with pytest.raises(BundleError) as e:
        b.policy.session({"id": "u-bob"})
    assert e.value.code == "wrong_subject"
    with pytest.raises(BundleError) as e:
        Bundle.verify((BUNDLES / "alice.json").read_bytes(), trusted_keys=[trusted_key()], user="u-bob")
    assert e.value.code == "wrong_subject"


def test_records_are_shaped_as_the_browser_shapes_them():
    s = Policy.from_json(SAMPLE).session({"id": "u-alice", "department": "sales-east"})
    mine = {"id": "c-1", "owner_id": "u-alice", "name": "A", "bank_account": "6222020200112233", "secret": 1}
    assert s.fields("customer", "edit", mine)["bank_account"] == "masked"
    shown = s.redact("customer", "view", mine)
    assert shown["name"] == "A" and "secret" not in shown
    assert shown["bank_account"] != mine["bank_account"] and shown["bank_account"].endswith("2233")
    w = s.writable("customer", "edit", {"name": "B", "credit_limit": 10**6, "owner_id": "u-bob"}, mine)
    assert w == {"name": "B"}
    why = s.explain("edit", "customer", {"owner_id": "u-bob"})
    assert why["allow"] is False and why["reason"] == "no_grant"
    assert "sales" in s.roles()


def test_bad_questions_raise_request_errors_with_codes():
    s = Policy.from_json(SAMPLE).session({"id": "u-alice"})
    for call, code in [
        (lambda: s.can("edit", "invoice"), "unknown_resource"),
        (lambda: s.can("fly", "customer"), "unknown_action"),
        (lambda: s.fields("customer", "sideways"), "bad_request"),
        (lambda: s.redact("customer", "view", {"x": float("nan")}), "bad_request"),
        (lambda: Policy.from_json(SAMPLE).session({"id": 7}), "bad_request"),
    ]:
        with pytest.raises(RequestError) as e:
            call()
        assert e.value.code == code
        assert code in fieldgate.errors.CODES
    with pytest.raises(TypeError):
        s.can("edit", "customer", {"when": object()})


def test_scope_filters_as_trees_and_as_sql_keep_the_allowed_rows():
    s = Policy.from_json(SAMPLE).session({"id": "u-alice", "department": "sales-east"})
    # Her own customers, and those shared with her (the members list, a JSON array in SQL).
    assert s.scope_filter("customer", "edit") == {"or": [
        {"op": "==", "left": {"attr": "owner_id"}, "right": {"value": "u-alice"}},
        {"op": "in", "left": {"value": "u-alice"}, "right": {"attr": "shared_with"}}]}
    rows = [("c-1", "u-alice", "vip", None), ("c-2", "u-bob", None, '["u-carol"]'),
            ("c-3", None, "gold", "[]"), ("c-4", "U-ALICE", None, None),
            ("c-5", "u-bob", None, '["u-carol", "u-alice"]'), ("c-6", "u-bob", None, '"u-alice"')]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE customer (id TEXT, owner TEXT, tier TEXT, team TEXT)")
    db.executemany("INSERT INTO customer VALUES (?, ?, ?, ?)", rows)
    clause, params = s.scope_filter_sql("customer", "edit", "sqlite", {"owner_id": "owner", "shared_with": "team"})
    got = [r[0] for r in db.execute(f"SELECT id FROM customer WHERE {clause} ORDER BY id", params)]
    record = lambda i, owner, tier, team: {k: v for k, v in {
        "id": i, "owner_id": owner, "tier": tier, "shared_with": json.loads(team) if team else None}.items() if v is not None}
    allowed = [r[0] for r in rows if s.can("edit", "customer", record(*r))]
    assert got == allowed == ["c-1", "c-5"]
    # Bob's export depends on the context (no export offline): SQL cannot say that without it.
    bob = Policy.from_json(SAMPLE).session({"id": "u-bob"})
    with pytest.raises(SqlError) as e:
        bob.scope_filter_sql("customer", "export", "sqlite")
    assert e.value.code == "sql_unsupported"
    assert bob.scope_filter_sql("customer", "export", "sqlite", context={"offline": False}) == (
        '("owner_id" IS ?)', ["u-bob"])
    with pytest.raises(SqlError) as e:
        s.scope_filter_sql("customer", "edit", "oracle")
    assert e.value.code == "bad_dialect"
    with pytest.raises(SqlError) as e:
        s.scope_filter_sql("customer", "edit", "postgres", {"owner_id": "x; DROP TABLE y"})
    assert e.value.code == "bad_column"


def test_a_session_is_safe_to_share_between_threads():
    s = Policy.from_json(SAMPLE).session({"id": "u-alice", "department": "sales-east"})
    results = []

    def work():
        results.append(all(s.can("edit", "customer", {"owner_id": "u-alice"}) for _ in range(2000)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4


def test_the_package_exports_its_api():
    assert set(fieldgate.__all__) >= {"Policy", "Bundle", "Session", "PolicyError", "BundleError", "RequestError", "SqlError"}
    assert "acme-erp" in repr(Policy.from_json(SAMPLE))
