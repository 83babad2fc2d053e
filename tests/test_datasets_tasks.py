"""Loaders for the NER, multi-label and long-text data sets (sktransformers.datasets)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sktransformers.datasets import (
    CONLL2003_TAGS,
    ENV_VAR,
    SEMEVAL2018_EMOTIONS,
    find_data_file,
    load_conll2003,
    load_glue,
    load_long_reviews,
    load_ner_sample,
    load_semeval2018_ec,
    make_long_texts,
    read_conll,
)

ROOT = Path(__file__).resolve().parents[1]


def shared(name):
    from conftest import shared_data

    return shared_data(name)


def assert_iob2(tags):
    """Every I-X follows a B-X or an I-X (strict IOB2)."""
    previous = "O"
    for tag in tags:
        assert tag == "O" or tag[:2] in ("B-", "I-"), tag
        if tag.startswith("I-"):
            assert previous[2:] == tag[2:] and previous != "O", (previous, tag)
        previous = tag


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


# ----------------------------------------------------------------------
# The shipped NER sample
# ----------------------------------------------------------------------
def test_ner_sample_is_iob2_with_four_entity_types():
    sentences, tags = load_ner_sample()
    assert len(sentences) == len(tags) == 200
    types = set()
    for words, labels in zip(sentences, tags):
        assert len(words) == len(labels) > 0
        assert all(isinstance(w, str) and w and not any(c.isspace() for c in w) for w in words)
        assert_iob2(labels)
        types.update(t[2:] for t in labels if t != "O")
    assert types == {"PER", "ORG", "LOC", "MISC"}
    assert set(t for labels in tags for t in labels) <= set(CONLL2003_TAGS)
    # Multi-word entities give I- tags of every type.
    assert {t for labels in tags for t in labels if t.startswith("I-")} == {
        "I-PER",
        "I-ORG",
        "I-LOC",
        "I-MISC",
    }


def test_ner_sample_as_frame_matches_lists():
    frame = load_ner_sample(as_frame=True)
    sentences, tags = load_ner_sample()
    assert list(frame.columns) == ["tokens", "tags"]
    assert frame["tokens"].tolist() == sentences and frame["tags"].tolist() == tags


def test_ner_sample_file_is_what_the_script_writes():
    script = runpy.run_path(str(ROOT / "tests" / "scripts" / "make_ner_sample.py"))
    shipped = ROOT / "sktransformers" / "datasets" / "ner_sample.tsv"
    assert shipped.read_text(encoding="utf-8") == script["make"]()


# ----------------------------------------------------------------------
# CoNLL files
# ----------------------------------------------------------------------
CONLL_TEXT = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
. . O O


Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def write_conll(folder, split="train", text=CONLL_TEXT):
    (folder / "conll2003").mkdir(parents=True, exist_ok=True)
    path = folder / "conll2003" / f"{split}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_conll_takes_first_and_last_column_and_skips_docstart(tmp_path):
    sentences, tags = read_conll(write_conll(tmp_path))
    assert sentences == [["EU", "rejects", "German", "."], ["Peter", "Blackburn"]]
    assert tags == [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"]]


def test_read_conll_names_the_bad_line(tmp_path):
    path = write_conll(tmp_path, text="EU NNP B-ORG\nrejects\n")
    with pytest.raises(ValueError, match=r"line 2.*'rejects'"):
        read_conll(path)


def test_load_conll2003_from_data_dir_env_var_or_dataset_folder(tmp_path, monkeypatch):
    write_conll(tmp_path, "dev")
    expected = read_conll(tmp_path / "conll2003" / "dev.txt")
    assert load_conll2003("dev", data_dir=tmp_path) == expected
    assert load_conll2003("dev", data_dir=tmp_path / "conll2003") == expected
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_conll2003("dev") == expected
    frame = load_conll2003("dev", as_frame=True)
    assert list(frame.columns) == ["tokens", "tags"] and frame["tokens"].tolist() == expected[0]


def test_missing_file_says_where_it_looked_and_where_data_comes_from(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_conll2003("train", data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "conll2003" / "train.txt") in message
    assert ENV_VAR in message and "CoNLL-2003" in message


def test_default_lookup_uses_the_working_directory(tmp_path, monkeypatch):
    work = tmp_path / "repo"
    work.mkdir()
    write_conll(tmp_path / "shared" / "data", "train")  # ../shared/data from the repo
    monkeypatch.chdir(work)
    path = find_data_file("conll2003", "train.txt")
    assert path == tmp_path / "shared" / "data" / "conll2003" / "train.txt"


def test_load_conll2003_rejects_unknown_split():
    with pytest.raises(ValueError, match="split must be"):
        load_conll2003("validation")


def test_load_conll2003_real_files():
    data = shared("conll2003")
    train, train_tags = load_conll2003("train", data_dir=data)
    dev, dev_tags = load_conll2003("dev", data_dir=data)
    assert (len(train), len(dev)) == (14041, 3250)
    for words, tags in zip(train + dev, train_tags + dev_tags):
        assert len(words) == len(tags)
    assert {t for tags in train_tags for t in tags} == set(CONLL2003_TAGS)


# ----------------------------------------------------------------------
# SemEval-2018 E-c
# ----------------------------------------------------------------------
def test_load_semeval2018_ec_keeps_quotes_and_returns_indicator_frame(tmp_path):
    header = "ID\tTweet\t" + "\t".join(SEMEVAL2018_EMOTIONS)
    rows = [
        "2018-1\t\"Worry is a down payment' #motivation\t" + "\t".join("01000010001"),
        "2018-2\tNA\t" + "\t".join("00000000000"),
    ]
    folder = tmp_path / "semeval2018_ec"
    folder.mkdir()
    (folder / "train.tsv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    tweets, labels = load_semeval2018_ec(data_dir=tmp_path)
    assert tweets.tolist() == ["\"Worry is a down payment' #motivation", "NA"]
    assert list(labels.columns) == list(SEMEVAL2018_EMOTIONS)
    assert labels.to_numpy().tolist() == [[0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1], [0] * 11]
    assert (labels.dtypes == np.int64).all()
    frame = load_semeval2018_ec(data_dir=tmp_path, as_frame=True)
    assert list(frame.columns[:2]) == ["ID", "Tweet"]


def test_load_semeval2018_ec_rejects_non_binary_labels(tmp_path):
    header = "ID\tTweet\t" + "\t".join(SEMEVAL2018_EMOTIONS)
    (tmp_path / "train.tsv").write_text(
        header + "\n1\thello\t" + "\t".join("20000000000") + "\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="0 or 1"):
        load_semeval2018_ec(data_dir=tmp_path)


def test_load_semeval2018_ec_real_file():
    tweets, labels = load_semeval2018_ec(data_dir=shared("semeval2018_ec"))
    assert tweets.shape == (5858,) and labels.shape == (5858, 11)
    assert tweets.map(type).eq(str).all()
    assert labels.sum(axis=1).mean() == pytest.approx(2.34, abs=0.01)


# ----------------------------------------------------------------------
# Long reviews
# ----------------------------------------------------------------------
@pytest.fixture
def fake_glue(tmp_path):
    """An SST-2 folder with 12 sentences of each label, 6 words each."""
    folder = tmp_path / "glue" / "SST-2"
    folder.mkdir(parents=True)
    rows = [f"positive sentence number {i} is here\t1" for i in range(12)]
    rows += [f"negative sentence number {i} is here\t0" for i in range(12)]
    rows.append("too short\t1")
    (folder / "dev.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    return tmp_path


def test_long_reviews_put_the_evidence_behind_the_filler(fake_glue):
    texts, labels = load_long_reviews(
        "dev", n_texts=6, n_evidence=2, filler_words=50, data_dir=fake_glue
    )
    assert len(texts) == 6 and sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1]
    used = []
    for text, label in zip(texts, labels):
        word = "positive" if label else "negative"
        other = "negative" if label else "positive"
        assert other not in text and "too short" not in text
        head, _, tail = text.partition(f"{word} sentence number")
        assert len(head.split()) >= 50  # all evidence after the filler
        assert text.count(f"{word} sentence") == 2
        used += [s for s in text.split(" . ") if "sentence number" in s]
    assert len(used) == len(set(used))  # no sentence used twice


def test_long_reviews_are_deterministic_and_place_evidence_as_asked(fake_glue):
    kw = dict(n_texts=4, n_evidence=2, filler_words=30, data_dir=fake_glue)
    assert load_long_reviews("dev", **kw)[0] == load_long_reviews("dev", **kw)[0]
    assert load_long_reviews("dev", random_state=1, **kw)[0] != load_long_reviews("dev", **kw)[0]
    texts, _ = load_long_reviews("dev", evidence_at="start", **kw)
    assert all(" ".join(t.split()[1:3]) == "sentence number" for t in texts)
    texts, _ = load_long_reviews("dev", evidence_at="scattered", **kw)
    assert all(t.count("sentence number") == 2 for t in texts)
    texts, labels = load_long_reviews("dev", n_evidence=4, data_dir=fake_glue, filler_words=0)
    assert len(texts) == 6 and texts[0].count("sentence number") == 4  # 12 per label // 4 * 2


def test_long_reviews_reject_bad_requests(fake_glue):
    with pytest.raises(ValueError, match="needs 14 texts of label 0"):
        load_long_reviews("dev", n_texts=14, n_evidence=2, data_dir=fake_glue)
    with pytest.raises(ValueError, match="evidence_at"):
        load_long_reviews("dev", evidence_at="middle", data_dir=fake_glue)


def test_make_long_texts_balances_any_labels_and_checks_lengths():
    texts = [f"{c} text {i} ." for c in ("red", "green", "blue") for i in range(4)]
    labels = ["red"] * 4 + ["green"] * 4 + ["blue"] * 4
    long_texts, long_labels = make_long_texts(
        texts, labels, n_texts=5, n_evidence=2, filler_words=20
    )
    assert sorted(long_labels.tolist()) == ["blue", "blue", "green", "green", "red"]
    for text, label in zip(long_texts, long_labels):
        assert text.count(f"{label} text") == 2 and text.endswith(" .")
    assert len(make_long_texts(texts, labels, n_evidence=2)[0]) == 6
    with pytest.raises(ValueError, match="12 texts but 11 labels"):
        make_long_texts(texts, labels[:-1])
    with pytest.raises(ValueError, match="n_evidence"):
        make_long_texts(texts, labels, n_evidence=0)


def test_long_reviews_real_sst2_exceed_128_tokens_before_the_evidence():
    from transformers import AutoTokenizer

    from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

    data = shared("glue")
    texts, labels = load_long_reviews("dev", data_dir=data)
    assert len(texts) == 280 and labels.mean() == 0.5
    sentences = set(load_glue("SST-2", "dev", data)[0].str.strip())
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    for text in texts[:20]:
        parts = text.split(" . ")
        first = next(i for i, p in enumerate(parts) if p + " ." in sentences or p in sentences)
        filler = " . ".join(parts[:first]) + " ."
        assert len(tokenizer(filler)["input_ids"]) > 128


def test_glue_loader_still_takes_an_explicit_folder_and_finds_the_default(monkeypatch):
    data = shared("glue")
    X, y = load_glue("SST-2", "dev", data / "glue")
    assert len(X) == 872
    monkeypatch.chdir(ROOT)
    X2, _ = load_glue("SST-2", "dev")
    pd.testing.assert_series_equal(X, X2)
