"""Write ``sktransformers/datasets/ner_sample.tsv``: a small synthetic NER set.

Run from the repository root (the output is deterministic: running it again
rewrites the same bytes, which ``tests/test_datasets_tasks.py`` checks)::

    python tests/scripts/make_ner_sample.py

The sentences come from templates written for this package, filled with
invented or very common names; nothing is taken from a corpus. Tags are IOB2
over four entity types as in CoNLL-2003 (PER, ORG, LOC, MISC); words are
split CoNLL-style (punctuation is its own word), so ``" ".join(tokens)``
splits back into the same words. One sentence per row, two columns:
``tokens`` and ``tags``, each space-joined.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "sktransformers" / "datasets" / "ner_sample.tsv"
N_SENTENCES = 200
SEED = 2024

ENTITIES = {
    "PER": [
        "Anna Schmidt",
        "John Miller",
        "Maria Rossi",
        "Kenji Tanaka",
        "Pierre Dubois",
        "Li Wei",
        "Fatima Khan",
        "Carlos Mendes",
        "Olga Petrova",
        "David Cohen",
        "Sarah O'Neil",
        "Ahmed Hassan",
        "Emma Johansson",
        "Tom Baker",
        "Priya Sharma",
        "Lucas",
        "Nadia",
        "Grace Okafor",
        "Helen Park",
        "Jorge Alvarez",
    ],
    "ORG": [
        "Acme Corporation",
        "United Nations",
        "Northwind Bank",
        "Reuters",
        "Globex",
        "Red Cross",
        "Bayern Munich",
        "European Commission",
        "Orion Airlines",
        "Blue River Energy",
        "World Health Organization",
        "Stark Industries",
        "City Council",
        "Vertex Labs",
        "Real Madrid",
        "Harbor Insurance",
    ],
    "LOC": [
        "Berlin",
        "New York",
        "Paris",
        "South Africa",
        "Lake Geneva",
        "Tokyo",
        "Brazil",
        "Cairo",
        "the Alps",
        "Sydney",
        "Canada",
        "Rio de Janeiro",
        "Mumbai",
        "Oslo",
        "the Baltic Sea",
        "Texas",
        "Lisbon",
        "Nairobi",
    ],
    # Five kinds of MISC, so that each template reads naturally.
    "NAT": ["German", "French", "Japanese", "Brazilian", "Canadian", "Kenyan", "Italian"],
    "LANG": ["German", "French", "English", "Japanese", "Spanish", "Italian", "Portuguese"],
    "EVENT": ["Olympic Games", "World Cup", "Tour de France", "Super Bowl", "Asian Cup"],
    "PRIZE": ["Nobel Prize", "Grammy Award", "Booker Prize", "Pulitzer Prize"],
    "HOLIDAY": ["Christmas", "Ramadan", "Easter", "Diwali"],
}

# {PER}, {ORG}, {LOC} and MISC slots; every other word is tagged O.
MISC = {"NAT", "LANG", "EVENT", "PRIZE", "HOLIDAY"}
TEMPLATES = [
    "{PER} joined {ORG} in {LOC} last year .",
    "{ORG} said on Monday it would open a new office in {LOC} .",
    "{PER} , a spokesman for {ORG} , declined to comment .",
    "The {NAT} team arrived in {LOC} on Friday .",
    "{PER} won the {PRIZE} after a long career .",
    "Shares of {ORG} fell 3 percent in {LOC} trading .",
    "{PER} met {PER} in {LOC} to discuss the deal .",
    "Fans travelled from {LOC} to watch the {EVENT} .",
    "{ORG} hired {PER} as its new chief executive .",
    "Heavy rain closed several roads near {LOC} on Tuesday .",
    "{PER} told reporters that {ORG} had no plans to move .",
    "The {NAT} minister visited {ORG} headquarters in {LOC} .",
    "{ORG} and {ORG} signed an agreement in {LOC} .",
    "{PER} , who was born in {LOC} , speaks fluent {LANG} .",
    "Police in {LOC} said {PER} was released on Sunday .",
    "The {EVENT} will be held in {LOC} next summer .",
    "{PER} scored twice as {ORG} beat the visitors 2-1 .",
    "Prices rose sharply in the months before {HOLIDAY} .",
    "A delegation from {ORG} is expected in {LOC} this week .",
    "{PER} left {LOC} for {LOC} early on Wednesday .",
    "Analysts at {ORG} expect growth to slow .",
    "The talks ended without an agreement .",
]


def fill(template, rng):
    tokens, tags = [], []
    for word in template.split():
        if word.startswith("{") and word.endswith("}"):
            slot = word[1:-1]
            kind = "MISC" if slot in MISC else slot
            entity = rng.choice(ENTITIES[slot]).split()
            tokens.extend(entity)
            tags.extend([f"B-{kind}"] + [f"I-{kind}"] * (len(entity) - 1))
        else:
            tokens.append(word)
            tags.append("O")
    return tokens, tags


def make(n=N_SENTENCES, seed=SEED):
    """The sample as text: a header line, then one ``tokens<TAB>tags`` line per sentence."""
    rng = random.Random(seed)
    lines = ["tokens\ttags"]
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)] if i < len(TEMPLATES) else rng.choice(TEMPLATES)
        tokens, tags = fill(template, rng)
        assert len(tokens) == len(tags) and all("\t" not in t and " " not in t for t in tokens)
        lines.append(" ".join(tokens) + "\t" + " ".join(tags))
    return "\n".join(lines) + "\n"


def main(argv=None):
    out = Path(argv[0]) if argv else OUT
    out.write_text(make(), encoding="utf-8", newline="\n")
    print(f"wrote {N_SENTENCES} sentences to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
