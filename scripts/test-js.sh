#!/usr/bin/env bash
# JS tests the way users consume the package: build pkg/, `npm pack` it, install the tarball
# into a fresh project under target/js-consumer, sign test bundles with the CLI, run
# `node --test` there, and type-check a consumer file with `tsc --noEmit`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$root/target/js-consumer
./scripts/pack-into.sh "$work"
fg=$root/target/release/fieldgate
tarball=$(ls "$work"/fieldgate-*.tgz)

# Signed material for the tests: a trusted key, an untrusted one, bundles of the sample policy.
$fg keygen --out-dir "$work/bundles/trusted" >/dev/null
$fg keygen --out-dir "$work/bundles/other" >/dev/null
policy=examples/acme-erp.policy.json
$fg sign --key "$work/bundles/trusted/signing.key" --policy $policy --out "$work/bundles/v3.json" --version 3 >/dev/null
$fg sign --key "$work/bundles/trusted/signing.key" --policy $policy --out "$work/bundles/v4.bin" --version 4 --format binary >/dev/null
$fg sign --key "$work/bundles/trusted/signing.key" --policy $policy --out "$work/bundles/v2.json" --version 2 >/dev/null
$fg sign --key "$work/bundles/other/signing.key" --policy $policy --out "$work/bundles/other.json" --version 9 >/dev/null
node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  p.templates.customer_reader[0].fields.phone = "hidden";
  require("fs").writeFileSync(process.argv[2], JSON.stringify(p));' $policy "$work/bundles/phone-hidden.policy.json"
$fg sign --key "$work/bundles/trusted/signing.key" --policy "$work/bundles/phone-hidden.policy.json" \
  --out "$work/bundles/v5-phone-hidden.json" --version 5 >/dev/null
$fg minimize --policy $policy --user u-alice --out "$work/bundles/alice.policy.json"
$fg sign --key "$work/bundles/trusted/signing.key" --policy "$work/bundles/alice.policy.json" --subject u-alice \
  --out "$work/bundles/alice.json" --version 3 >/dev/null

cat > "$work/package.json" <<'JSON'
{ "name": "fieldgate-consumer", "private": true, "type": "module" }
JSON
cp tests/js/*.mjs tests/js/*.ts tests/js/*.tsx tests/js/*.html "$work/"
cp -r tests/js/vite-app "$work/vite-app"
cp -r tests/fixtures "$work/fixtures"
cp examples/acme-erp.policy.json "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund "$tarball" typescript@5 @types/node@20 playwright-core@1 vite@7 webpack@5 \
  @formily/core@2 react@18 react-dom@18 react-test-renderer@18 @rjsf/core@5 @rjsf/utils@5 @rjsf/validator-ajv8@5 \
  vue@3 @types/react@18 amis@6 >/dev/null)

echo "== node --test (installed from $(basename "$tarball"))"
(cd "$work" && node --test)
echo "== tsc --noEmit on a consumer file"
(cd "$work" && npx tsc --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 consumer.ts)
echo "== tsc --noEmit on the adapters, against the libraries' own types (bundler resolution, as in a Vite app)"
(cd "$work" && npx tsc --noEmit --strict --module esnext --moduleResolution bundler --target es2022 \
  --jsx react-jsx adapters-consumer.tsx)
