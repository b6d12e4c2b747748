#!/usr/bin/env bash
# Fortune files: English (apt fortunes) and German (apt fortunes-de).
# Outputs: fortunes-en, fortunes-de (text; one entry = one document).
source "$(dirname "$0")/lib.sh"
begin fortunes
root="$(fetch_deb fortunes)"
python3 "$CORPORA_DIR/extract.py" fortunes --dir "$root/usr/share/games/fortunes" --out "$RAW_DIR/fortunes-en.jsonl"
finalize fortunes-en text "$RAW_DIR/fortunes-en.jsonl" $(versions fortunes)
root="$(fetch_deb fortunes-de)"
python3 "$CORPORA_DIR/extract.py" fortunes --dir "$root/usr/share/games/fortunes/de" --out "$RAW_DIR/fortunes-de.jsonl"
finalize fortunes-de text "$RAW_DIR/fortunes-de.jsonl" $(versions fortunes-de)
stamp_write fortunes
