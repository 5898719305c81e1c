"""The JSON Schema accepts every valid policy we ship and rejects type-level mistakes."""
import json, pathlib, sys
import jsonschema

root = pathlib.Path(__file__).resolve().parent.parent
schema = json.loads((root / "schema/fieldgate-policy.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
good = [root / "examples/acme-erp.policy.json", root / "tests/fixtures/bench/form60.policy.json"]
good_docs = [json.loads(p.read_text()) for p in good]
good_docs += [json.loads(p.read_text())["policy"] for p in (root / "tests/fixtures/core").glob("*.json")
              if isinstance(json.loads(p.read_text())["policy"], dict)]
failed = 0
for d in good_docs:
    errs = list(v.iter_errors(d))
    if errs:
        failed += 1
        print("schema rejects a valid policy:", errs[0].message)
bad = dict(good_docs[0]); bad["extra"] = 1
bad2 = json.loads(json.dumps(good_docs[0])); bad2["roles"]["sales"]["grants"][0]["scope"] = "mine"
bad3 = json.loads(json.dumps(good_docs[0])); bad3["rules"][0]["effect"] = "allow"
bad4 = json.loads(json.dumps(good_docs[0])); bad4["roles"]["sales"]["label"] = {"zh-CN": 3}
for d in (bad, bad2, bad3, bad4):
    if v.is_valid(d):
        failed += 1
        print("schema accepts an invalid policy")
print(f"{len(good_docs) + 3 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
