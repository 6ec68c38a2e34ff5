# Sourced by the dev scripts: npm dependencies present and dist/ up to date.
# Native addons build against local Node headers only (no header downloads).
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [[ -d "$node_prefix/include/node" ]]; then export npm_config_nodedir="$node_prefix"; fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "weir: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
newest_source="$(find gateway devices rules firmware-sim bench -name '*.ts' -newer dist/.built 2>/dev/null | head -n 1 || true)"
if [[ ! -f dist/.built || -n "$newest_source" || tsconfig.json -nt dist/.built ]]; then
  echo "weir: compiling TypeScript" >&2
  npx tsc -p tsconfig.json
  touch dist/.built
fi
