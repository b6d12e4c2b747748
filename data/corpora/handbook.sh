#!/usr/bin/env bash
# The Debian Administrator's Handbook (apt debian-handbook) in every language
# it ships: one document per HTML page, paragraphs from <div class="para">.
# Outputs: handbook-<lang> (text) for each language, handbook-en-de (seq2seq:
# paragraph-aligned English -> German translation pairs).
source "$(dirname "$0")/lib.sh"
begin handbook
root="$(fetch_deb debian-handbook)"
html="$root/usr/share/doc/debian-handbook/html"
for dir in "$html"/*-*/; do
  lang="$(basename "$dir")"
  [[ -f "$dir/index.html" ]] || continue
  python3 "$CORPORA_DIR/extract.py" handbook --dir "$html" --lang "$lang" --out "$RAW_DIR/handbook-$lang.jsonl"
  finalize "handbook-$lang" text "$RAW_DIR/handbook-$lang.jsonl" $(versions debian-handbook)
done
python3 "$CORPORA_DIR/extract.py" handbook-pairs --dir "$html" --src en-US --tgt de-DE --out "$RAW_DIR/handbook-en-de.jsonl"
finalize handbook-en-de seq2seq "$RAW_DIR/handbook-en-de.jsonl" $(versions debian-handbook)
stamp_write handbook
