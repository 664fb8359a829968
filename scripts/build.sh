#!/usr/bin/env bash
# npm run build: compiles runtime/ and bin/ to dist/ (tsc, tsconfig.build.json, with source maps)
# and copies what the compiled code reads at run time: package.json (the version, and "type":
# "module" for dist/) and every file under runtime/ that is not TypeScript (the migrations' SQL).
# The image runs dist/ only: node --enable-source-maps dist/bin/archibald.js (runtime/Dockerfile).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx --no-install tsc -p tsconfig.build.json
cp package.json dist/package.json
# Runtime assets keep their place relative to the code that reads them (import.meta.url).
while IFS= read -r -d '' file; do
  mkdir -p "dist/$(dirname "$file")"
  cp "$file" "dist/$file"
done < <(find runtime -type f ! -name '*.ts' ! -name 'Dockerfile' -print0)
