#!/usr/bin/env bash
# Refresh the vendored front-end libraries in static/vendor/ from the versions package.json pins.
# Needs Node.js and npm (the npm registry). Running Grafo needs none of this: the copies are committed.
#   d3           - the graph drawing, data joins, d3-zoom pan/zoom (one ES module, bundled with esbuild)
#   @dagrejs/dagre - layered DAG layout, run in a Web Worker (its own self-contained ES module build)
#   codemirror   - the program editor with Python highlighting (CodeMirror 6, bundled once with esbuild)
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund >/dev/null
ver() { node -p "require('./node_modules/$1/package.json').version"; }
ESBUILD=./node_modules/.bin/esbuild
V=static/vendor

rm -rf "$V/d3" "$V/dagre" "$V/codemirror"
mkdir -p "$V/d3" "$V/dagre" "$V/codemirror"

# d3: the npm package's d3.mjs re-exports 30 sub-packages; bundle them into one file.
$ESBUILD scripts/d3-entry.js --bundle --format=esm --minify --legal-comments=none \
  --outfile="$V/d3/d3.js" --log-level=warning
cp node_modules/d3/LICENSE "$V/d3/LICENSE"
echo "d3 $(ver d3) (npm), bundled with esbuild $(ver esbuild) from scripts/d3-entry.js" > "$V/d3/VERSION"

# dagre: its dist/dagre.esm.js already includes graphlib.
cp node_modules/@dagrejs/dagre/dist/dagre.esm.js "$V/dagre/dagre.esm.js"
cp node_modules/@dagrejs/dagre/LICENSE "$V/dagre/LICENSE"
echo "@dagrejs/dagre $(ver @dagrejs/dagre) (npm), dist/dagre.esm.js unchanged" > "$V/dagre/VERSION"

# CodeMirror 6: bundle the pieces the editor uses into one ES module.
$ESBUILD scripts/codemirror-entry.js --bundle --format=esm --minify --legal-comments=none \
  --outfile="$V/codemirror/codemirror.js" --log-level=warning
{
  echo "CodeMirror 6, bundled with esbuild $(ver esbuild) from scripts/codemirror-entry.js:"
  for p in codemirror @codemirror/view @codemirror/state @codemirror/language @codemirror/lang-python \
           @codemirror/commands @codemirror/lint @codemirror/autocomplete @codemirror/search \
           @lezer/common @lezer/highlight @lezer/lr @lezer/python style-mod w3c-keyname crelt; do
    [ -f "node_modules/$p/package.json" ] && echo "  $p $(ver "$p")"
  done
} > "$V/codemirror/VERSION"
{
  echo "CodeMirror 6 and its parts (@codemirror/*, @lezer/*) are MIT licensed:"; echo
  cat node_modules/codemirror/LICENSE; echo
  for p in style-mod w3c-keyname crelt; do
    [ -f "node_modules/$p/LICENSE" ] && { echo "--- $p:"; cat "node_modules/$p/LICENSE"; echo; }
  done
} > "$V/codemirror/LICENSE"
ls -la "$V"/d3 "$V"/dagre "$V"/codemirror
