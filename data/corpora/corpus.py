#!/usr/bin/env python3
"""Turns a source's raw JSON lines into graft's corpus files, and merges them.

finalize: NFKC, control characters and markup leftovers removed, whitespace
  tidied, exact duplicates dropped (after normalisation), then a split by
  document into train/valid/test by a seeded hash of the document itself, so
  the split is fixed and stable when documents are added. Writes the split
  files and a manifest fragment (manifest.json) beside them.
merge: concatenates the splits of several finalized corpora into one.
manifest: gathers every fragment into DATA_DIR/manifest.json.

File formats (what `graft data prepare` reads):
  text            NAME.txt: documents separated by one empty line; a document
                  never contains an empty line (paragraphs are single lines).
  classification  NAME.tsv: "label<TAB>text" per line.
  seq2seq         NAME.tsv: "source<TAB>target" per line.
"""
import argparse
import hashlib
import json
import os
import re
import unicodedata

SEED = "graft-split-v1"
FRACTIONS = {"text": (0.96, 0.02), "classification": (0.8, 0.1), "seq2seq": (0.9, 0.05)}
MIN_CHARS = {"text": 40, "classification": 2, "seq2seq": 2}


def clean(text):
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Control characters other than newline and tab carry no text.
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def one_line(text):
    return " ".join(clean(text).split())


def bucket(key):
    digest = hashlib.sha256((SEED + "\0" + key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def file_entry(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"bytes": os.path.getsize(path), "sha256": h.hexdigest()}


def write_atomic(path, records, kind):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in records:
            if kind == "text":
                f.write(rec + "\n\n")
            else:
                f.write(rec[0] + "\t" + rec[1] + "\n")
    os.replace(tmp, path)


def finalize(args):
    kind = args.kind
    seen, splits, raw_count, dup_count, short_count = set(), {"train": [], "valid": [], "test": []}, 0, 0, 0
    train_frac, valid_frac = FRACTIONS[kind]
    with open(args.raw, encoding="utf-8") as f:
        for line in f:
            raw_count += 1
            obj = json.loads(line)
            if kind == "text":
                rec = clean(obj["text"])
                key = rec
                size = len(rec)
            elif kind == "classification":
                rec = (one_line(obj["label"]), one_line(obj["text"]))
                key, size = rec[1], len(rec[1])
            else:
                rec = (one_line(obj["source"]), one_line(obj["target"]))
                key, size = rec[0], min(len(rec[0]), len(rec[1]))
            if size < MIN_CHARS[kind]:
                short_count += 1
                continue
            if key in seen:
                dup_count += 1
                continue
            seen.add(key)
            u = bucket(key)
            split = "train" if u < train_frac else "valid" if u < train_frac + valid_frac else "test"
            splits[split].append(rec)
    os.makedirs(args.out, exist_ok=True)
    ext = "txt" if kind == "text" else "tsv"
    files = {}
    for split, records in splits.items():
        path = os.path.join(args.out, f"{split}.{ext}")
        write_atomic(path, records, kind)
        files[f"{split}.{ext}"] = dict(file_entry(path), documents=len(records))
    manifest = {
        "name": args.name, "kind": kind, "packages": args.packages,
        "normalization": "NFKC", "split_seed": SEED,
        "split_fractions": {"train": train_frac, "valid": valid_frac,
                            "test": round(1 - train_frac - valid_frac, 6)},
        "raw_documents": raw_count, "duplicates_dropped": dup_count,
        "too_short_dropped": short_count, "files": files,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)


def merge(args):
    parts = [json.load(open(os.path.join(p, "manifest.json"))) for p in args.parts]
    kinds = {p["kind"] for p in parts}
    assert len(kinds) == 1, f"cannot merge corpora of kinds {kinds}"
    kind = kinds.pop()
    ext = "txt" if kind == "text" else "tsv"
    os.makedirs(args.out, exist_ok=True)
    files = {}
    for split in ("train", "valid", "test"):
        path = os.path.join(args.out, f"{split}.{ext}")
        docs = 0
        with open(path + ".tmp", "wb") as out:
            for part_dir, part in zip(args.parts, parts):
                with open(os.path.join(part_dir, f"{split}.{ext}"), "rb") as f:
                    out.write(f.read())
                docs += part["files"][f"{split}.{ext}"]["documents"]
        os.replace(path + ".tmp", path)
        files[f"{split}.{ext}"] = dict(file_entry(path), documents=docs)
    manifest = {"name": args.name, "kind": kind, "components": [p["name"] for p in parts],
                "packages": sorted({v for p in parts for v in p["packages"]}), "files": files}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)


def manifest(args):
    corpora = []
    for name in sorted(os.listdir(args.corpora)):
        path = os.path.join(args.corpora, name, "manifest.json")
        if os.path.exists(path):
            corpora.append(json.load(open(path)))
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"format": "graft-corpora-manifest", "version": 1, "corpora": corpora}, f,
                  indent=1, ensure_ascii=False)
    os.replace(tmp, args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("finalize")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=sorted(FRACTIONS), required=True)
    p.add_argument("--raw", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--packages", nargs="*", default=[])
    p = sub.add_parser("merge")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--parts", nargs="+", required=True)
    p = sub.add_parser("manifest")
    p.add_argument("--corpora", required=True)
    p.add_argument("--out", required=True)
    args = ap.parse_args()
    {"finalize": finalize, "merge": merge, "manifest": manifest}[args.cmd](args)


if __name__ == "__main__":
    main()
