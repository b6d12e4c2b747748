#!/usr/bin/env bash
# Manual pages rendered to text by groff: German (apt manpages-de) and English
# (apt manpages, manpages-dev). Outputs: manpages-de, manpages-en (text).
source "$(dirname "$0")/lib.sh"
begin manpages
command -v groff >/dev/null || { log "groff is missing (apt-get install groff-base)"; exit 1; }
root="$(fetch_deb manpages-de)"
python3 "$CORPORA_DIR/extract.py" manpages --dir "$root/usr/share/man/de" --out "$RAW_DIR/manpages-de.jsonl"
finalize manpages-de text "$RAW_DIR/manpages-de.jsonl" $(versions manpages-de)
en1="$(fetch_deb manpages)"
en2="$(fetch_deb manpages-dev)"
python3 "$CORPORA_DIR/extract.py" manpages --dir "$en1/usr/share/man" --out "$RAW_DIR/manpages-en1.jsonl"
python3 "$CORPORA_DIR/extract.py" manpages --dir "$en2/usr/share/man" --out "$RAW_DIR/manpages-en2.jsonl"
cat "$RAW_DIR/manpages-en1.jsonl" "$RAW_DIR/manpages-en2.jsonl" > "$RAW_DIR/manpages-en.jsonl"
finalize manpages-en text "$RAW_DIR/manpages-en.jsonl" $(versions manpages manpages-dev)
stamp_write manpages
