"""Chinese text end to end: word splitting, loaders, augmentation, the coverage check,
and the estimators with a tiny random BERT whose character vocabulary is built here."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from sktransformers import TextAugmenter, TransformerClassifier, TransformerTokenClassifier
from sktransformers.datasets import (
    PEOPLES_DAILY_TAGS,
    load_chnsenticorp,
    load_peoples_daily_ner,
)
from sktransformers.engine._augment import text_language
from sktransformers.engine._synonym_table import chinese_synonym_table
from sktransformers.explain._attributions import delete_words
from sktransformers.utils._text_input import check_words, join_words, word_spans

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "chinese"

REVIEWS = [
    "房间很干净，服务员很热情，下次还会入住。",
    "酒店位置不错，早餐也很好吃。",
    "性价比高，交通方便，非常满意。",
    "前台态度冷漠，房间很吵，不推荐。",
    "设施陈旧，卫生很差，非常失望。",
    "价格昂贵，早餐难吃，没有WiFi。",
]
LABELS = [1, 1, 1, 0, 0, 0]
NER_TEXTS = [
    "我在Google工作了3年",
    "张伟在北京大学读书",
    "李娜去上海出差",
    "王芳在Google见到张伟",
]
NER_TAGS = [
    ["O", "O", "B-ORG", "O", "O", "O", "O", "O"],
    ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O"],
    ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O"],
    ["B-PER", "I-PER", "O", "B-ORG", "O", "O", "B-PER", "I-PER"],
]


def _words(text):
    return [text[a:b] for a, b in word_spans(text)]


# ----------------------------------------------------------------------
# A tiny random BERT with a character vocabulary of the texts above
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def char_model_dir(tmp_path_factory):
    from conftest import save_tiny_bert
    from transformers import BertTokenizerFast

    path = tmp_path_factory.mktemp("char-bert")
    chars = sorted(
        {
            c
            for t in REVIEWS + NER_TEXTS + ["北京上海"]
            for c in t
            if not c.isascii() and not c.isspace()
        }
    )
    latin = list("abcdefghijklmnopqrstuvwxyz0123456789")
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *chars,
        *latin,
        *("##" + c for c in latin),
    ]
    tokenizer = BertTokenizerFast(
        vocab={token: i for i, token in enumerate(vocab)},
        do_lower_case=True,
        tokenize_chinese_chars=True,
    )
    return save_tiny_bert(path, tokenizer, vocab_size=len(vocab))


@pytest.fixture(scope="module")
def ner(char_model_dir):
    """Fitted on strings and on lists of characters, until it tags its training set."""
    X = NER_TEXTS + [list(t) for t in ["张伟去北京", "李娜在上海"]]
    y = NER_TAGS + [["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the character vocabulary covers the texts
        model = TransformerTokenClassifier(
            char_model_dir,
            max_epochs=30,
            lr=5e-3,
            batch_size=6,
            warmup_ratio=0.0,
            device="cpu",
            random_state=0,
        )
        model.fit(X, y)
    return model


# ----------------------------------------------------------------------
# 1. Words of a string
# ----------------------------------------------------------------------
def test_word_spans_split_cjk_characters_and_keep_latin_runs():
    text = "我在Google工作了3年"
    assert _words(text) == ["我", "在", "Google", "工", "作", "了", "3", "年"]
    assert word_spans(text)[2] == (2, 8)
    assert _words("COVID-19病例增加3.5倍，OK？") == [
        "COVID-19",
        "病",
        "例",
        "增",
        "加",
        "3.5",
        "倍",
        "，",
        "OK",
        "？",
    ]
    # Kana, hangul, full-width forms are single characters; U+3000 is a space.
    assert _words("東京タワー　한국 ＡＢ") == ["東", "京", "タ", "ワ", "ー", "한", "국", "Ａ", "Ｂ"]
    # English splits as str.split; Thai has no CJK and stays one run (a stated limit).
    english = "Hello,  world! It's 3.5x (COVID-19) naïve café"
    assert _words(english) == english.split()
    assert _words("ภาษาไทย ok") == ["ภาษาไทย", "ok"]
    for text in ("我在Google工作了3年", english, " 東京 タワー "):
        assert all(text[a:b] == w for (a, b), w in zip(word_spans(text), _words(text)))


def test_words_join_without_spaces_next_to_cjk():
    assert join_words(["我", "在", "Google", "工", "作", "Inc", "3"]) == (
        "我在Google工作Inc 3",
        [(0, 1), (1, 2), (2, 8), (8, 9), (9, 10), (10, 13), (14, 15)],
    )
    assert join_words(["a", "b"])[0] == "a b"
    inputs = check_words([list("张伟在北京"), "张伟 在北京", ["Ada", "Lovelace"]])
    assert inputs.texts == ["张伟在北京", "张伟 在北京", "Ada Lovelace"]
    assert inputs.words[1] == list("张伟在北京")
    assert inputs.offsets[1] == [(0, 1), (1, 2), (3, 4), (4, 5), (5, 6)]


# ----------------------------------------------------------------------
# 3. Loaders
# ----------------------------------------------------------------------
@pytest.fixture
def shared_chinese():
    if not (SHARED / "chnsenticorp_htl" / "train.csv").is_file():
        pytest.skip(f"Chinese data not found at {SHARED} (expected ../shared/data/chinese)")
    return SHARED


def test_loaders_read_the_shared_files(shared_chinese):
    reviews, labels = load_chnsenticorp(data_dir=shared_chinese.parent)
    assert len(reviews) == len(labels) == 6765
    assert set(labels.unique()) == {0, 1} and 0.6 < labels.mean() < 0.75
    assert reviews.map(type).eq(str).all()
    sentences, tags = load_peoples_daily_ner(data_dir=shared_chinese)
    assert len(sentences) == 2318
    assert all(len(s) == len(t) for s, t in zip(sentences, tags))
    assert all(len(c) == 1 for s in sentences[:50] for c in s)
    assert {t for row in tags for t in row} == set(PEOPLES_DAILY_TAGS)


def test_loaders_read_tiny_files_and_say_where_data_comes_from(tmp_path, monkeypatch):
    folder = tmp_path / "chinese" / "chnsenticorp_htl"
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text('label,review\n1,"很好,干净"\n0,太吵\n', encoding="utf-8")
    ner_dir = tmp_path / "chinese" / "peoples_daily_ner"
    ner_dir.mkdir()
    (ner_dir / "train.txt").write_text(
        "张 B-PER\n伟 I-PER\n来 O\n\n\n北 B-LOC\n京 I-LOC\n", encoding="utf-8"
    )
    reviews, labels = load_chnsenticorp(data_dir=tmp_path)
    assert reviews.tolist() == ["很好,干净", "太吵"] and labels.tolist() == [1, 0]
    assert list(load_chnsenticorp(data_dir=folder, as_frame=True).columns) == ["label", "review"]
    monkeypatch.setenv("SKTRANSFORMERS_DATA_DIR", str(tmp_path))
    assert load_peoples_daily_ner() == (
        [["张", "伟", "来"], ["北", "京"]],
        [["B-PER", "I-PER", "O"], ["B-LOC", "I-LOC"]],
    )
    frame = load_peoples_daily_ner(data_dir=tmp_path / "chinese", as_frame=True)
    assert frame["tokens"].tolist()[1] == ["北", "京"]
    with pytest.raises(FileNotFoundError, match="ChnSentiCorp.*|SKTRANSFORMERS_DATA_DIR"):
        load_chnsenticorp(data_dir=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="People's Daily 1998"):
        load_peoples_daily_ner(data_dir=tmp_path / "nowhere")
    (folder / "train.csv").write_text("label,review\n2,好\n", encoding="utf-8")
    with pytest.raises(ValueError, match="0 or 1"):
        load_chnsenticorp(data_dir=tmp_path)
    (ner_dir / "train.txt").write_text("张B-PER\n", encoding="utf-8")
    with pytest.raises(ValueError, match="CHAR TAG"):
        load_peoples_daily_ner(data_dir=tmp_path)


# ----------------------------------------------------------------------
# 2. Augmentation
# ----------------------------------------------------------------------
@pytest.mark.parametrize("method", ["synonym", "swap", "delete", "insert"])
def test_chinese_augmentation_keeps_the_label_bearing_content(method):
    table = chinese_synonym_table()
    words = "|".join(sorted(table, key=len, reverse=True))
    out = TextAugmenter(methods=(method,), p=0.2, random_state=0).augment(REVIEWS)
    assert len(out) == len(REVIEWS) and out != REVIEWS
    assert all(" " not in t for t in out)  # no spaces put between Chinese characters
    for before, after in zip(REVIEWS, out):
        b, a = _words(before), _words(after)
        if method == "synonym":  # replaced substrings are table synonyms of what was there
            assert after != before
            assert any(word in after for alts in table.values() for word in alts)
            # Only table words changed (不错 -> 挺好 as a whole, never 不 alone).
            assert re.sub(words, "#", after) == re.sub(words, "#", before)
        elif method == "swap":  # same characters; negations stay where they were
            assert sorted(a) == sorted(b)
            assert [i for i, c in enumerate(b) if c in "不没"] == [
                i for i, c in enumerate(a) if c in "不没"
            ]
        elif method == "delete":  # characters dropped, never a negation
            assert len(a) < len(b)
            assert b.count("不") == a.count("不") and b.count("没") == a.count("没")
            it = iter(b)
            assert all(c in it for c in a)  # a subsequence of the original
        else:
            assert len(after) > len(before)
    assert "WiFi" in out[5] or method == "delete"  # Latin runs are one word
    if method == "synonym":  # negated words outside the table are left alone
        assert "不推荐" in out[3] and "没有WiFi" in out[5]


def test_language_is_picked_by_script_or_forced():
    assert text_language("房间很干净") == "zh"
    assert text_language("我在Google工作了3年") == "zh"
    assert text_language("a great film 的 indeed") == "en"
    english = ["a great film with wonderful acting", "the story is dull"]
    auto = TextAugmenter(random_state=0).augment(english)
    assert auto == TextAugmenter(language="en", random_state=0).augment(english)
    # English rules on Chinese text: the English table has none of its words.
    text = ["房间很干净，非常满意"]
    assert TextAugmenter(methods=("synonym",), language="en", random_state=0).augment(text) == text
    zh = TextAugmenter(methods=("synonym",), p=1.0, language="zh", random_state=0).augment(text)
    assert zh != text and "，" in zh[0]
    custom = TextAugmenter(methods=("synonym",), p=1.0, synonyms={"干净": ["整洁"]}, random_state=0)
    assert custom.augment(["房间很干净"]) == ["房间很整洁"]
    with pytest.raises(ValueError, match="language"):
        TextAugmenter(language="fr").augment(text)


# ----------------------------------------------------------------------
# 4. Vocabulary coverage check at fit
# ----------------------------------------------------------------------
def test_fit_warns_when_the_tokenizer_cannot_read_the_script(tiny_model_dir, char_model_dir):
    params = dict(max_epochs=1, batch_size=8, device="cpu", random_state=0)
    with pytest.warns(UserWarning, match=r"maps \d+% .*bert-base-chinese") as record:
        clf = TransformerClassifier(tiny_model_dir, **params).fit(REVIEWS, LABELS)
    assert "hfl/chinese-roberta-wwm-ext" in str(record[0].message)
    assert clf.unk_share_ > 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        english = TransformerClassifier(tiny_model_dir, **params).fit(
            ["a great film", "a dull film", "loved it", "hated it"], [1, 0, 1, 0]
        )
        chinese = TransformerClassifier(char_model_dir, **params).fit(REVIEWS, LABELS)
    assert english.unk_share_ == 0.0 and chinese.unk_share_ == 0.0
    with pytest.warns(UserWarning, match="bert-base-chinese"):
        TransformerTokenClassifier(tiny_model_dir, **params).fit(NER_TEXTS, NER_TAGS)


# ----------------------------------------------------------------------
# 7. The estimators with a character vocabulary
# ----------------------------------------------------------------------
def test_token_classifier_tags_characters_with_exact_offsets(ner):
    text = "我在Google工作了3年"
    tags = ner.predict([text, list("张伟在北京大学读书")])
    assert [len(t) for t in tags] == [8, 9]
    assert tags[0] == NER_TAGS[0]
    assert tags[1] == NER_TAGS[1]
    entities = ner.predict_entities([text, "张伟在北京大学读书", list("李娜去上海出差")])
    assert [(e["entity"], e["start"], e["end"], e["text"]) for e in entities[0]] == [
        ("ORG", 2, 8, "Google")
    ]
    assert [(e["entity"], e["text"]) for e in entities[1]] == [("PER", "张伟"), ("ORG", "北京大学")]
    # Lists of characters: offsets into the characters joined with no spaces.
    assert [(e["entity"], e["start"], e["end"], e["text"]) for e in entities[2]] == [
        ("PER", 0, 2, "李娜"),
        ("LOC", 3, 5, "上海"),
    ]
    assert ner.score(NER_TEXTS, NER_TAGS) == 1.0


def test_save_load_and_onnx_runtime_keep_the_characters(ner, tmp_path):
    X = ["我在Google工作了3年", "张伟在北京大学读书", list("李娜去上海出差")]
    ner.save_pretrained(tmp_path / "saved")
    loaded = TransformerTokenClassifier.from_pretrained(tmp_path / "saved")
    assert loaded.predict(X) == ner.predict(X)
    keys = ("entity", "start", "end", "text")
    for got, want in zip(loaded.predict_entities(X), ner.predict_entities(X)):
        assert [{k: e[k] for k in keys} for e in got] == [{k: e[k] for k in keys} for e in want]
        assert [e["score"] for e in got] == pytest.approx([e["score"] for e in want], abs=1e-5)
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sktransformers import onnx as skonnx

    ner.export_onnx(tmp_path / "onnx")
    model = skonnx.load(tmp_path / "onnx")
    assert model.predict(X) == ner.predict(X)
    assert [[{k: e[k] for k in keys} for e in row] for row in model.predict_entities(X)] == [
        [{k: e[k] for k in keys} for e in row] for row in ner.predict_entities(X)
    ]


def test_explanations_score_characters(ner, char_model_dir):
    text = "我在Google工作了3年"
    exp = ner.explain([text], word=2, method="occlusion")[0]
    assert exp.words == _words(text) and exp.word == "Google"
    assert exp.offsets == word_spans(text) and len(exp.scores) == 8
    clf = TransformerClassifier(
        char_model_dir, max_epochs=1, batch_size=8, device="cpu", random_state=0
    ).fit(REVIEWS, LABELS)
    exp = clf.explain([REVIEWS[5]], method="gradient_x_input")[0]
    assert exp.words == _words(REVIEWS[5])  # one score per character, "WiFi" whole
    assert "WiFi" in exp.words and len(exp.words) > 10
    assert all(REVIEWS[5][a:b] == w for (a, b), w in zip(exp.offsets, exp.words))
    assert np.isfinite(exp.scores).all()
    # Deleting words (ERASER comprehensiveness) puts no spaces between characters.
    assert delete_words(exp, [0, 1]) == REVIEWS[5][2:]
