#!/usr/bin/env bash
# UCI Sentiment Labelled Sentences (CC BY 4.0) from the npm package
# `sentiment`'s test fixtures: 3,000 Amazon/IMDB/Yelp sentences labelled
# positive/negative. Output: sentiment (classification).
source "$(dirname "$0")/lib.sh"
begin sentiment
dir="$(fetch_npm sentiment)"
python3 "$CORPORA_DIR/extract.py" sentiment --dir "$dir" --out "$RAW_DIR/sentiment.jsonl"
finalize sentiment classification "$RAW_DIR/sentiment.jsonl" $(versions npm-sentiment)
stamp_write sentiment
