#!/usr/bin/env python3
"""Splits the labelled sources in config/nlu/sources/*.txt (one utterance a line; the file's
name is the intent) into train.tsv, dev.tsv and test.tsv: stratified by intent, 70/15/15, by a
seeded hash of each utterance, duplicates (after folding case, accents and punctuation) dropped.
Lines in config/nlu/train_only/*.txt (written after the split) go to train alone. Run once;
the test split must never be used to choose features or thresholds."""
import hashlib, pathlib, re, unicodedata

SEED = "redsol-2026"
here = pathlib.Path(__file__).parent

def fold(s):
    s = unicodedata.normalize("NFKD", s.lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())

seen, splits = set(), {"train": [], "dev": [], "test": []}


def fresh_lines(path):
    """The file's utterances not seen before (after folding), as (intent, line)."""
    intent = re.sub(r"_\d+$", "", path.stem)
    for line in path.read_text(encoding="utf-8").splitlines():
        line = " ".join(line.replace("\t", " ").split())
        key = fold(line)
        if not line or line.startswith("#") or key in seen:
            continue
        seen.add(key)
        yield intent, line


for path in sorted((here / "sources").glob("*.txt")):
    rows = list(fresh_lines(path))
    intent = re.sub(r"_\d+$", "", path.stem)
    lines = [line for _, line in rows]
    lines.sort(key=lambda l: hashlib.sha256((SEED + l).encode()).hexdigest())
    n = len(lines)
    a, b = round(n * 0.70), round(n * 0.85)
    for name, part in (("train", lines[:a]), ("dev", lines[a:b]), ("test", lines[b:])):
        splits[name] += [(intent, l) for l in part]
# Lines written after the split went into train only: they never move a line of the sources
# between splits, and never enter dev or test.
for path in sorted((here / "train_only").glob("*.txt")):
    splits["train"].extend(fresh_lines(path))
for name, rows in splits.items():
    with open(here / f"{name}.tsv", "w", encoding="utf-8") as f:
        f.write(f"# {name} split: intent<TAB>text, made by split.py; do not edit by hand\n")
        for intent, l in sorted(rows):
            f.write(f"{intent}\t{l}\n")
    print(name, len(rows))
