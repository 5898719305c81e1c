#!/usr/bin/env bash
# JS tests the way users consume the package: build pkg/, `npm pack` it, install the tarball
# into a fresh project under target/js-consumer, sign test bundles with the CLI, run
# `node --test` there, and type-check a consumer file with `tsc --noEmit`.
# With `--node-only` (the fast loop, scripts/quick.sh): only the tests that need neither a
# browser nor the real-client apps.
set -euo pipefail
node_only=false
[ "${1:-}" = "--node-only" ] && node_only=true
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
cp tests/js/*.mjs tests/js/*.ts tests/js/*.tsx tests/js/*.html tests/js/tsconfig.package.json "$work/"
cp -r tests/js/apps "$work/apps"
cp -r tests/fixtures "$work/fixtures"
cp examples/acme-erp.policy.json examples/acme-erp.data.json "$work/"
cp README.md "$work/README.repo.md"
(cd "$work" && npm install --silent --no-audit --no-fund "$tarball" typescript@5 @types/node@20 playwright-core@1 vite@7 webpack@5 esbuild@0 \
  @formily/core@2 react@18 react-dom@18 react-test-renderer@18 @rjsf/core@5 @rjsf/utils@5 @rjsf/validator-ajv8@5 \
  vue@3 @types/react@18 amis@6 express@4 koa@2 >/dev/null)

# Real client projects, each with its own node_modules and the tarball, as a user sets one up.
mkdir -p "$work/apps/vite/public" "$work/apps/next/public"
cp -r "$work/bundles" "$work/apps/vite/public/bundles"
cp -r "$work/bundles" "$work/apps/next/public/bundles"
install() { (cd "$work/apps/$1" && shift && npm install --silent --no-audit --no-fund "$tarball" "$@" >/dev/null); }
if $node_only; then
  echo "== node --test, without browsers or real-client apps (installed from $(basename "$tarball"))"
  (cd "$work" && FIELDGATE_BIN="$fg" node --test engine.test.mjs store.test.mjs values.test.mjs \
    fixtures.test.mjs field-objects.test.mjs adapters.test.mjs export.test.mjs server.test.mjs preload.test.mjs)
  exit 0
fi
install vite vite@7
install next next@16 react@19 react-dom@19
install node20 node@20.0.0 react@18 vue@3

echo "== node --test (installed from $(basename "$tarball"))"
(cd "$work" && FIELDGATE_BIN="$fg" node --test)
echo "== tsc: the package's own sources (each file // @ts-check; fieldgate/server against the installed index.d.ts)"
rm -rf "$work/pkg-src" && cp -r target/pkg-src "$work/pkg-src"
(cd "$work" && npx tsc -p tsconfig.package.json)
echo "== tsc --noEmit on a consumer file"
(cd "$work" && npx tsc --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 consumer.ts)
echo "== tsc --noEmit on the adapters, against the libraries' own types (bundler resolution, as in a Vite app)"
(cd "$work" && npx tsc --noEmit --strict --module esnext --moduleResolution bundler --target es2022 \
  --jsx react-jsx adapters-consumer.tsx)
