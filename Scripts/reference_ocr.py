"""Seeded text-recognition cases and jiwer's numbers for them (the OCR metrics' reference).

    reference_ocr.py OUT_DIR [--seed N] [--lines N]

Writes OUT_DIR/labels.jsonl and OUT_DIR/predictions.jsonl ({"id", "text"} per line) and
OUT_DIR/expected.json: jiwer's corpus CER and WER (default transforms) and each line's
character and word edits (substitutions + deletions + insertions) and reference lengths.
The cases mix Unicode (accents composed and decomposed, CJK, emoji, combining marks), empty
predictions and references, runs of spaces, tabs and other whitespace, and leading and trailing
whitespace, so that every transform is exercised.
"""
import argparse
import importlib.metadata
import json
import random
from pathlib import Path

import jiwer

PIECES = ["Kaiserstraße", "straße", "Stra\u00dfe", "cafe\u0301", "café", "東京都", "渋谷区", "😀", "👍🏽", "naïve",
          "12", "345", "A", "b", "Ölmühle", "Ελλάδα", "Москва", "x", "über", "—", "e\u0301", "ﬁ", "İ", "ß"]
SPACES = [" ", "  ", "   ", "\t", " \t ", "\n", "\u00a0", "\u3000", " \u2003 ", "\x1c", "\u200b"]


def line(rng):
    words = [rng.choice(PIECES) for _ in range(rng.randint(1, 6))]
    text = words[0]
    for word in words[1:]:
        text += (" " if rng.random() < 0.7 else rng.choice(SPACES)) + word
    if rng.random() < 0.2:
        text = rng.choice(SPACES) + text
    if rng.random() < 0.2:
        text = text + rng.choice(SPACES)
    return text


def misread(rng, text):
    """A recogniser's reading: character edits, dropped and doubled spaces, sometimes nothing."""
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.25:
        return text
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        position = rng.randint(0, len(chars))
        if op < 0.35 and chars:
            chars[min(position, len(chars) - 1)] = rng.choice("aeoß東😀1 ")
        elif op < 0.6 and chars:
            del chars[min(position, len(chars) - 1)]
        elif op < 0.85:
            chars.insert(position, rng.choice(["x", " ", "  ", "é", "\t"]))
        else:
            chars.insert(position, rng.choice(SPACES))
    return "".join(chars)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lines", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    refs, hyps = [], []
    for i in range(args.lines):
        ref = line(rng) if rng.random() > 0.03 else ""
        refs.append(ref)
        hyps.append(misread(rng, ref) if ref else rng.choice(["", "x", " "]))
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for i, ref in enumerate(refs):
            f.write(json.dumps({"id": f"line-{i:04d}", "text": ref}, ensure_ascii=False) + "\n")
    with open(out / "predictions.jsonl", "w", encoding="utf-8") as f:
        for i, hyp in reversed(list(enumerate(hyps))):  # another order: ids join them
            f.write(json.dumps({"id": f"line-{i:04d}", "text": hyp}, ensure_ascii=False) + "\n")
    samples = []
    for i, (ref, hyp) in enumerate(zip(refs, hyps)):
        chars = jiwer.process_characters(ref, hyp)
        words = jiwer.process_words(ref, hyp)
        samples.append({
            "id": f"line-{i:04d}",
            "char_edits": chars.substitutions + chars.deletions + chars.insertions,
            "reference_chars": chars.hits + chars.substitutions + chars.deletions,
            "word_edits": words.substitutions + words.deletions + words.insertions,
            "reference_words": words.hits + words.substitutions + words.deletions,
        })
    expected = {
        "cer": jiwer.cer(refs, hyps),
        "wer": jiwer.wer(refs, hyps),
        "exact_match": sum(s["char_edits"] == 0 for s in samples) / len(samples),
        "n": len(samples),
        "samples": samples,
        "jiwer": importlib.metadata.version("jiwer"),
    }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
