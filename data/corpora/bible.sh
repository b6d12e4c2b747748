#!/usr/bin/env bash
# English Bibles (apt sword-text-kjv, sword-text-web) read through diatheke
# (which must be installed; the modules are only unpacked). One document per
# book. Outputs: bible-kjv, bible-web (text).
source "$(dirname "$0")/lib.sh"
begin bible
command -v diatheke >/dev/null || { log "diatheke is missing (apt-get install diatheke)"; exit 1; }
for pair in kjv:engKJV2006eb web:engWEB2015eb; do
  name="${pair%%:*}" module="${pair#*:}"
  root="$(fetch_deb "sword-text-$name")"
  python3 "$CORPORA_DIR/extract.py" bible --sword-path "$root/usr/share/sword" --module "$module" \
    --out "$RAW_DIR/bible-$name.jsonl"
  finalize "bible-$name" text "$RAW_DIR/bible-$name.jsonl" $(versions "sword-text-$name")
done
stamp_write bible
