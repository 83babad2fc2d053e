"""Extractive question answering: SQuAD 2.0 subset, validated by article.

Data: ``sktransformers.datasets.load_squad2_subset`` (``squad2_subset/train.json``
of the data folder: four Wikipedia articles of the SQuAD 2.0 development set,
1,197 questions, about half of them unanswerable). Validation is by article:
each fold trains on three articles and scores on the fourth (``--folds``
chooses the held-out articles; default all four). Every arm of every fold
runs in its own Python process (as in ``bench_speed.py``), so its time is its
own. Results print as markdown tables with the machine, date and command, and
are written to ``benchmarks/results/qa_cpu.md`` (``qa_gpu.md`` on a GPU), one
marked section per run (``--no-write``: print only).

Arms (``--arms``; the trained arms share the model, the training questions, the
epochs, ``max_length`` 384, batch size 32 and learning rate; the Trainer and the
pipeline use ``run_qa.py``'s stride 128, the package its default ``max_length // 4``)
---------------------------------------------------------------------------
``no_answer``
    Always answers "" (no answer): the score of saying nothing.
``lexical``
    A lexical-overlap sentence picker: the context's sentence with the most
    question words in common (lowercased, punctuation and English stop words
    dropped); "" when that overlap is below a threshold chosen on the training
    articles (the one maximising their F1). Plain Python.
``package``
    ``TransformerQuestionAnswerer(model, random_state=seed)`` with its defaults
    (``max_epochs="auto"``); the epochs it trains (``max_epochs_``) are the
    epochs of the ``trainer`` arm of the same fold.
``onnx_int8``
    Prediction only: the ``package`` arm's fitted model exported with
    ``export_onnx(quantize="int8")`` and run by ``sktransformers.onnx.load``
    (onnxruntime, no torch); export time not counted.
``trainer``
    The Hugging Face recipe of transformers' ``examples/pytorch/question-answering/run_qa.py``:
    ``AutoModelForQuestionAnswering`` in float32, ``prepare_train_features``
    (question first, ``truncation="only_second"``, overflowing windows with
    ``stride`` tokens of overlap, padded to ``max_length``; unanswerable
    questions and windows without the answer labelled at the CLS token),
    ``Trainer`` with ``default_data_collator`` and the package's weight decay
    and warmup; then ``prepare_validation_features`` and ``utils_qa.py``'s
    ``postprocess_qa_predictions`` (``version_2_with_negative=True``,
    ``n_best_size=20``, ``max_answer_length=30``,
    ``null_score_diff_threshold=0.0``), both reimplemented here.
``pipeline``
    Prediction only: ``pipeline("question-answering")`` over the ``trainer``
    arm's fine-tuned model (saved to a temporary folder), with
    ``handle_impossible_answer=True`` and the same ``max_seq_len`` and
    ``doc_stride``, its defaults otherwise (one question at a time). transformers
    5 removed that pipeline; there the arm runs a line-by-line port of the
    pipeline of transformers 4.57 (:class:`QuestionAnsweringPipelineV4`). Checked
    against transformers 4.57.6's own pipeline on the same fine-tuned model (40
    held-out questions, ``max_seq_len`` 384 and 128): the same answers and
    scores, and the same time within 3 %.

Scores: SQuAD 2.0's official evaluation (``evaluate-v2.0.py``, copied below:
answers normalised by lowercasing and dropping punctuation, articles and extra
whitespace; exact match and token F1 against the best-matching reference;
an unanswerable question scores 1 only for ""), in percent, overall and split
into answerable (HasAns) and unanswerable (NoAns) questions. Train time
includes tokenization and loading the model; train questions/s is training
questions x epochs / train time. Predict time is one pass over the held-out
questions (tokenization and post-processing included, loading excluded).

Usage
-----
The whole benchmark (4 folds, all arms; hours on a CPU, run under the lock)::

    flock /tmp/sktransformers-cpu.lock python benchmarks/bench_qa.py

Part of it (held-out articles by index 0-3 or title; ``--epochs N`` fixes the
epochs of both trained arms instead of the package's ``"auto"``;
``--package-params`` changes the package arm's parameters, e.g. ``stride=128``)::

    python benchmarks/bench_qa.py --folds 0 --arms package,trainer,pipeline
    python benchmarks/bench_qa.py --folds 0,2 --arms package,trainer --epochs 3

A smoke run (40 training and 20 held-out questions, 1 epoch, ``max_length``
128, stride 32, one fold; a few minutes, numbers meaningless)::

    python benchmarks/bench_qa.py --smoke --no-write --threads 1

Data: the data folder's ``squad2_subset/`` (``--data-dir``, else
``$SKTRANSFORMERS_DATA_DIR``, else ``../shared/data``).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from bench_speed import (  # noqa: E402  (shared helpers of the benchmark scripts)
    load,
    machine,
    run_child,
    sync,
    trainer_arguments,
    warm_imports,
    write_section,
)

ARMS = ("no_answer", "lexical", "package", "onnx_int8", "trainer", "pipeline")
LABELS = {
    "no_answer": 'always "" (no answer)',
    "lexical": "lexical-overlap sentence",
    "package": "TransformerQuestionAnswerer",
    "onnx_int8": "its int8 ONNX export (sktransformers.onnx)",
    "trainer": "HF Trainer (run_qa.py recipe)",
    "pipeline": "HF question-answering pipeline",
}
#: ``run_qa.py``'s ``max_seq_length`` and ``doc_stride`` (the Trainer and pipeline arms').
RUN_QA_MAX_LENGTH, RUN_QA_DOC_STRIDE = 384, 128
#: The package's training defaults (the Trainer arm's too), used when
#: ``TransformerQuestionAnswerer`` cannot be imported.
FALLBACK_DEFAULTS = {
    "batch_size": 32,
    "lr": 5e-5,
    "weight_decay": 0.01,
    "warmup_ratio": 0.06,
}
#: The Trainer's epochs when neither the package arm nor ``--epochs`` gives them
#: (``TrainingArguments.num_train_epochs``'s default).
TRAINER_DEFAULT_EPOCHS = 3
#: ``run_qa.py``'s post-processing settings (its defaults, ``--version_2_with_negative``).
N_BEST_SIZE, MAX_ANSWER_LENGTH, NULL_SCORE_DIFF_THRESHOLD = 20, 30, 0.0


# ----------------------------------------------------------------------
# Data (read in each child; every read is deterministic)
# ----------------------------------------------------------------------
def articles(data):
    """Article titles in the order of the file."""
    return list(dict.fromkeys(data.groups.tolist()))


def fold_data(cfg):
    """``(X_train, y_train, X_test, y_test)`` of the fold holding out ``cfg["fold"]``.

    ``cfg["train_size"]`` / ``cfg["test_size"]`` (the smoke run's) keep a seeded
    random subset of the questions.
    """
    import numpy as np

    from sktransformers.datasets import load_squad2_subset

    data = load_squad2_subset(data_dir=cfg["data_dir"])
    held = data.groups == cfg["fold"]
    rng = np.random.default_rng(cfg["seed"])

    def rows(mask, size):
        index = np.flatnonzero(mask)
        if size and size < len(index):
            index = np.sort(rng.choice(index, size, replace=False))
        return index

    train, test = rows(~held, cfg.get("train_size")), rows(held, cfg.get("test_size"))
    X, y = data.X, data.y
    return (
        X.iloc[train].reset_index(drop=True),
        [y[i] for i in train],
        X.iloc[test].reset_index(drop=True),
        [y[i] for i in test],
    )


# ----------------------------------------------------------------------
# SQuAD 2.0's official evaluation (evaluate-v2.0.py,
# https://rajpurkar.github.io/SQuAD-explorer/, without the no-answer
# probability thresholds, which need scores the arms do not all have)
# ----------------------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", s).split())


def get_tokens(s):
    return normalize_answer(s).split() if s else []


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        # If either is no-answer, then F1 is 1 if they agree, 0 otherwise.
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = num_same / len(pred_toks)
    recall = num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def raw_scores(y_true, y_pred):
    """Per-question exact match and F1 (0/1 and 0-1), against the best reference."""
    exact, f1 = [], []
    for answers, pred in zip(y_true, y_pred):
        gold = [a for a in answers["text"] if normalize_answer(a)]
        if not gold:  # an unanswerable question: the only correct answer is ""
            gold = [""]
        exact.append(max(compute_exact(a, pred) for a in gold))
        f1.append(max(compute_f1(a, pred) for a in gold))
    return exact, f1


def squad2_scores(y_true, y_pred):
    """EM and F1 in percent, overall and on the answerable / unanswerable questions."""
    exact, f1 = raw_scores(y_true, y_pred)
    has = [bool(a["text"]) for a in y_true]

    def mean(values, keep=None):
        kept = [v for v, k in zip(values, keep or [True] * len(values)) if k]
        return 100.0 * sum(kept) / len(kept) if kept else float("nan")

    return {
        "exact": mean(exact),
        "f1": mean(f1),
        "has_exact": mean(exact, has),
        "has_f1": mean(f1, has),
        "no_exact": mean(exact, [not h for h in has]),
        "no_f1": mean(f1, [not h for h in has]),
        "n_has": sum(has),
        "n_no": len(has) - sum(has),
    }


# ----------------------------------------------------------------------
# The lexical-overlap baseline
# ----------------------------------------------------------------------
def _stop_words():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # a frozenset of words

    return ENGLISH_STOP_WORDS


def content_words(text, stop):
    """Lowercased words without punctuation and stop words."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in stop}


def sentences(context):
    """The context's sentences: split after ``.``, ``!`` or ``?`` followed by whitespace."""
    return [s for s in re.split(r"(?<=[.!?])\s+", context.strip()) if s]


def best_sentence(question, context, stop):
    """``(sentence, overlap)``: the first sentence with the most question words in common."""
    q = content_words(question, stop)
    best, best_overlap = "", -1
    for sentence in sentences(context):
        overlap = len(q & content_words(sentence, stop))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best, max(best_overlap, 0)


class LexicalAnswerer:
    """Answer with the best-overlapping sentence, or "" below a threshold fitted on F1."""

    def fit(self, X, y):
        stop = _stop_words()
        picked = [best_sentence(q, c, stop) for q, c in zip(X["question"], X["context"])]
        _, f1_sentence = raw_scores(y, [s for s, _ in picked])
        _, f1_empty = raw_scores(y, [""] * len(y))
        overlaps = [o for _, o in picked]
        scores = {}
        for threshold in range(max(overlaps) + 2):  # max + 1: always ""
            f1 = [
                fs if o >= threshold else fe for o, fs, fe in zip(overlaps, f1_sentence, f1_empty)
            ]
            scores[threshold] = sum(f1) / len(f1)
        self.threshold_ = max(scores, key=lambda t: (scores[t], -t))  # ties: the lowest
        self.train_f1_ = 100.0 * scores[self.threshold_]
        return self

    def set_threshold(self, threshold):
        """The same picker with another threshold (0: always answer)."""
        other = LexicalAnswerer()
        other.threshold_, other.train_f1_ = threshold, float("nan")
        return other

    def predict(self, X):
        stop = _stop_words()
        out = []
        for q, c in zip(X["question"], X["context"]):
            sentence, overlap = best_sentence(q, c, stop)
            out.append(sentence if overlap >= self.threshold_ else "")
        return out


# ----------------------------------------------------------------------
# run_qa.py's features and post-processing (transformers'
# examples/pytorch/question-answering/run_qa.py and utils_qa.py)
# ----------------------------------------------------------------------
def prepare_train_features(tokenizer, questions, contexts, answers, max_length, stride):
    """``run_qa.py``'s ``prepare_train_features`` (question first, pad_to_max_length=True)."""
    questions = [q.lstrip() for q in questions]
    enc = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    sample_mapping = enc.pop("overflow_to_sample_mapping")
    offset_mapping = enc.pop("offset_mapping")
    enc["start_positions"], enc["end_positions"] = [], []
    for i, offsets in enumerate(offset_mapping):
        # Impossible answers are labelled with the index of the CLS token.
        input_ids = enc["input_ids"][i]
        if tokenizer.cls_token_id in input_ids:
            cls_index = input_ids.index(tokenizer.cls_token_id)
        elif tokenizer.bos_token_id in input_ids:
            cls_index = input_ids.index(tokenizer.bos_token_id)
        else:
            cls_index = 0
        sequence_ids = enc.sequence_ids(i)
        answer = answers[sample_mapping[i]]
        if len(answer["answer_start"]) == 0:
            enc["start_positions"].append(cls_index)
            enc["end_positions"].append(cls_index)
            continue
        start_char = answer["answer_start"][0]
        end_char = start_char + len(answer["text"][0])
        token_start_index = 0
        while sequence_ids[token_start_index] != 1:
            token_start_index += 1
        token_end_index = len(input_ids) - 1
        while sequence_ids[token_end_index] != 1:
            token_end_index -= 1
        if not (
            offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char
        ):
            # The answer is out of this window: labelled with the CLS index.
            enc["start_positions"].append(cls_index)
            enc["end_positions"].append(cls_index)
        else:
            while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
                token_start_index += 1
            enc["start_positions"].append(token_start_index - 1)
            while offsets[token_end_index][1] >= end_char:
                token_end_index -= 1
            enc["end_positions"].append(token_end_index + 1)
    return enc


def prepare_validation_features(tokenizer, questions, contexts, max_length, stride):
    """``run_qa.py``'s ``prepare_validation_features``: windows, their question, context offsets."""
    questions = [q.lstrip() for q in questions]
    enc = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    sample_mapping = enc.pop("overflow_to_sample_mapping")
    enc["example_id"] = []
    for i in range(len(enc["input_ids"])):
        sequence_ids = enc.sequence_ids(i)
        enc["example_id"].append(sample_mapping[i])
        # Offsets of tokens outside the context are None.
        enc["offset_mapping"][i] = [
            (o if sequence_ids[k] == 1 else None) for k, o in enumerate(enc["offset_mapping"][i])
        ]
    return enc


def postprocess_qa_predictions(
    contexts,
    features,
    predictions,
    version_2_with_negative=False,
    n_best_size=20,
    max_answer_length=30,
    null_score_diff_threshold=0.0,
):
    """``utils_qa.py``'s ``postprocess_qa_predictions``: one answer string per example.

    ``features``: ``example_id`` (the example's index) and ``offset_mapping``
    per window; ``predictions``: (start logits, end logits), one row per window.
    """
    import numpy as np

    all_start_logits, all_end_logits = predictions
    assert len(all_start_logits) == len(features["example_id"])
    features_per_example = collections.defaultdict(list)
    for i, example_id in enumerate(features["example_id"]):
        features_per_example[example_id].append(i)

    all_predictions = []
    for example_index, context in enumerate(contexts):
        min_null_prediction = None
        prelim_predictions = []
        for feature_index in features_per_example[example_index]:
            start_logits = all_start_logits[feature_index]
            end_logits = all_end_logits[feature_index]
            offset_mapping = features["offset_mapping"][feature_index]
            feature_null_score = start_logits[0] + end_logits[0]
            if min_null_prediction is None or min_null_prediction["score"] > feature_null_score:
                min_null_prediction = {
                    "offsets": (0, 0),
                    "score": feature_null_score,
                    "start_logit": start_logits[0],
                    "end_logit": end_logits[0],
                }
            start_indexes = np.argsort(start_logits)[-1 : -n_best_size - 1 : -1].tolist()
            end_indexes = np.argsort(end_logits)[-1 : -n_best_size - 1 : -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if (
                        start_index >= len(offset_mapping)
                        or end_index >= len(offset_mapping)
                        or offset_mapping[start_index] is None
                        or len(offset_mapping[start_index]) < 2
                        or offset_mapping[end_index] is None
                        or len(offset_mapping[end_index]) < 2
                    ):
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    prelim_predictions.append(
                        {
                            "offsets": (
                                offset_mapping[start_index][0],
                                offset_mapping[end_index][1],
                            ),
                            "score": start_logits[start_index] + end_logits[end_index],
                            "start_logit": start_logits[start_index],
                            "end_logit": end_logits[end_index],
                        }
                    )
        if version_2_with_negative and min_null_prediction is not None:
            prelim_predictions.append(min_null_prediction)
            null_score = min_null_prediction["score"]
        preds = sorted(prelim_predictions, key=lambda x: x["score"], reverse=True)[:n_best_size]
        if (
            version_2_with_negative
            and min_null_prediction is not None
            and not any(p["offsets"] == (0, 0) for p in preds)
        ):
            preds.append(min_null_prediction)
        for pred in preds:
            offsets = pred.pop("offsets")
            pred["text"] = context[offsets[0] : offsets[1]]
        if len(preds) == 0 or (len(preds) == 1 and preds[0]["text"] == ""):
            preds.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
        if not version_2_with_negative:
            all_predictions.append(preds[0]["text"])
            continue
        i = 0
        while preds[i]["text"] == "":
            i += 1
        best_non_null = preds[i]
        score_diff = null_score - best_non_null["start_logit"] - best_non_null["end_logit"]
        all_predictions.append(
            "" if score_diff > null_score_diff_threshold else best_non_null["text"]
        )
    return all_predictions


# ----------------------------------------------------------------------
# transformers 4.57's QuestionAnsweringPipeline (removed in transformers 5)
# ----------------------------------------------------------------------
class QuestionAnsweringPipelineV4:
    """A port of ``transformers.pipelines.question_answering`` of transformers 4.57.

    Its fast-tokenizer path, line by line: each question on its own, its
    context cut into windows (no padding), one forward pass per window
    (the pipeline's default batch size, 1), start / end softmax over the
    context tokens and CLS, the best span of at most ``max_answer_len`` tokens
    aligned to whole words, and with ``handle_impossible_answer`` the smallest
    CLS start x end probability over the windows as the "" candidate.
    """

    def __init__(self, model, tokenizer, device="cpu"):
        self.model, self.tokenizer, self.device = model.to(device).eval(), tokenizer, device

    def __call__(self, question, context, **params):
        return [self.answer(q, c, **params) for q, c in zip(question, context)]

    def answer(
        self,
        question,
        context,
        *,
        top_k=1,
        handle_impossible_answer=False,
        max_answer_len=15,
        max_seq_len=None,
        doc_stride=None,
        align_to_words=True,
    ):
        import numpy as np
        import torch

        tok = self.tokenizer
        if max_seq_len is None:
            max_seq_len = min(tok.model_max_length, 384)
        if doc_stride is None:
            doc_stride = min(max_seq_len // 2, 128)
        question_first = tok.padding_side == "right"
        enc = tok(
            text=question if question_first else context,
            text_pair=context if question_first else question,
            padding="do_not_pad",
            truncation="only_second" if question_first else "only_first",
            max_length=max_seq_len,
            stride=doc_stride,
            return_token_type_ids=True,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        min_null_score = 1000000  # large and positive
        answers = []
        for span in range(len(enc["input_ids"])):
            # 1 where a token cannot be in the answer: all but the context; CLS kept.
            p_mask = [t != 1 if question_first else 0 for t in enc.sequence_ids(span)]
            ids = enc["input_ids"][span]
            if tok.cls_token_id is not None:
                for cls_index in np.nonzero(np.array(ids) == tok.cls_token_id)[0]:
                    p_mask[cls_index] = 0
            inputs = {
                k: torch.tensor(enc[k][span]).long().unsqueeze(0).to(self.device)
                for k in tok.model_input_names
                if k in enc
            }
            with torch.no_grad():
                output = self.model(**inputs)
            start = output["start_logits"].float().cpu().numpy()
            end = output["end_logits"].float().cpu().numpy()
            attention_mask = (
                inputs["attention_mask"].cpu().numpy() if "attention_mask" in inputs else None
            )
            starts, ends, scores, min_null_score = select_starts_ends(
                start,
                end,
                p_mask,
                attention_mask,
                min_null_score,
                top_k * 2 + 10 if align_to_words else top_k,
                handle_impossible_answer,
                max_answer_len,
            )
            encoding = enc[span]  # a tokenizers.Encoding (not padded)
            sequence_index = 1 if question_first else 0
            for s, e, score in zip(starts, ends, scores):
                start_index, end_index = get_indices(encoding, s, e, sequence_index, align_to_words)
                target = context[start_index:end_index]
                same = next((a for a in answers if a["answer"].lower() == target.lower()), None)
                if same:
                    same["score"] += score.item()
                else:
                    answers.append(
                        {
                            "score": score.item(),
                            "start": start_index,
                            "end": end_index,
                            "answer": target,
                        }
                    )
        if handle_impossible_answer:
            answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers


def decode_spans(start, end, topk, max_answer_len, undesired_tokens):
    """transformers 4.57's ``decode_spans`` (the pipeline's span search)."""
    import numpy as np

    if start.ndim == 1:
        start = start[None]
    if end.ndim == 1:
        end = end[None]
    outer = np.matmul(np.expand_dims(start, -1), np.expand_dims(end, 1))
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    scores_flat = candidates.flatten()
    if topk == 1:
        idx_sort = [np.argmax(scores_flat)]
    elif len(scores_flat) < topk:
        idx_sort = np.argsort(-scores_flat)
    else:
        idx = np.argpartition(-scores_flat, topk)[0:topk]
        idx_sort = idx[np.argsort(-scores_flat[idx])]
    starts, ends = np.unravel_index(idx_sort, candidates.shape)[1:]
    desired_spans = np.isin(starts, undesired_tokens.nonzero()) & np.isin(
        ends, undesired_tokens.nonzero()
    )
    starts, ends = starts[desired_spans], ends[desired_spans]
    return starts, ends, candidates[0, starts, ends]


def select_starts_ends(
    start,
    end,
    p_mask,
    attention_mask,
    min_null_score=1000000,
    top_k=1,
    handle_impossible_answer=False,
    max_answer_len=15,
):
    """transformers 4.57's ``select_starts_ends``: softmax over allowed tokens, then the spans."""
    import numpy as np

    undesired_tokens = np.abs(np.array(p_mask) - 1)
    if attention_mask is not None:
        undesired_tokens = undesired_tokens & attention_mask
    undesired_tokens_mask = undesired_tokens == 0.0
    start = np.where(undesired_tokens_mask, -10000.0, start)
    end = np.where(undesired_tokens_mask, -10000.0, end)
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    if handle_impossible_answer:
        min_null_score = min(min_null_score, (start[0, 0] * end[0, 0]).item())
    start[0, 0] = end[0, 0] = 0.0
    starts, ends, scores = decode_spans(start, end, top_k, max_answer_len, undesired_tokens)
    return starts, ends, scores, min_null_score


def get_indices(enc, s, e, sequence_index, align_to_words):
    """transformers 4.57's ``QuestionAnsweringPipeline.get_indices``: token span -> characters."""
    if align_to_words:
        try:
            start_word = enc.token_to_word(s)
            end_word = enc.token_to_word(e)
            start_index = enc.word_to_chars(start_word, sequence_index=sequence_index)[0]
            end_index = enc.word_to_chars(end_word, sequence_index=sequence_index)[1]
        except Exception:  # noqa: BLE001  (as the pipeline: keep to offsets)
            start_index, end_index = enc.offsets[s][0], enc.offsets[e][1]
    else:
        start_index, end_index = enc.offsets[s][0], enc.offsets[e][1]
    return start_index, end_index


def qa_pipeline(model_dir, device):
    """``(pipeline, note)``: transformers' question-answering pipeline, else the 4.57 port."""
    import transformers

    try:
        pipe = transformers.pipeline(
            "question-answering", model=model_dir, tokenizer=model_dir, device=device
        )
        return pipe, f'pipeline("question-answering"), transformers {transformers.__version__}'
    except KeyError:  # transformers 5: "The task question-answering has been removed"
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        model = AutoModelForQuestionAnswering.from_pretrained(model_dir, dtype=torch.float32)
        tok = AutoTokenizer.from_pretrained(model_dir)
        where = "cpu" if device == -1 else f"cuda:{device}"
        return QuestionAnsweringPipelineV4(model, tok, where), (
            f"transformers {transformers.__version__} has no question-answering pipeline: "
            "transformers 4.57's, ported"
        )


# ----------------------------------------------------------------------
# Arms (each runs in a child process)
# ----------------------------------------------------------------------
def result(cfg, y_test, pred, *, train_s, predict_s, epochs, n_train, n_test, **extra):
    return {
        **squad2_scores(y_test, pred),
        "train_s": train_s,
        "predict_s": predict_s,
        "epochs": epochs,
        "n_train": n_train,
        "n_test": n_test,
        "fold": cfg["fold"],
        **extra,
    }


def arm_no_answer(cfg):
    X, y, X_test, y_test = fold_data(cfg)
    t0 = time.perf_counter()
    pred = [""] * len(X_test)
    return result(
        cfg,
        y_test,
        pred,
        train_s=0.0,
        predict_s=time.perf_counter() - t0,
        epochs=0,
        n_train=len(X),
        n_test=len(X_test),
        note="",
    )


def arm_lexical(cfg):
    X, y, X_test, y_test = fold_data(cfg)
    t0 = time.perf_counter()
    est = LexicalAnswerer().fit(X, y)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = est.predict(X_test)
    predict_s = time.perf_counter() - t0
    always = squad2_scores(y_test, est.set_threshold(0).predict(X_test))
    return result(
        cfg,
        y_test,
        pred,
        train_s=train_s,
        predict_s=predict_s,
        epochs=0,
        n_train=len(X),
        n_test=len(X_test),
        note=(
            f'"" below {est.threshold_} shared words (training F1 {est.train_f1_:.1f}); '
            f"always answering: F1 {always['f1']:.1f}, HasAns F1 {always['has_f1']:.1f}"
        ),
    )


def arm_package(cfg):
    import numpy as np

    X, y, X_test, y_test = fold_data(cfg)
    from sktransformers import TransformerQuestionAnswerer

    params = dict(cfg.get("package_params") or {})
    if cfg["epochs"] is not None:
        params["max_epochs"] = cfg["epochs"]
    if cfg["smoke"]:
        params.setdefault("max_length", cfg["max_length"])
        params.setdefault("stride", cfg["stride"])
    if cfg["cpu"]:
        params["device"] = "cpu"
    est = TransformerQuestionAnswerer(model=cfg["model"], random_state=cfg["seed"], **params)
    contract = []
    warm_imports()
    sync(cfg["device"])
    t0 = time.perf_counter()
    est.fit(X, y)
    sync(cfg["device"])
    train_s = time.perf_counter() - t0
    epochs = getattr(est, "max_epochs_", None)
    if epochs is None:
        contract.append("no max_epochs_ after fit")
        history = getattr(getattr(est, "net_", None), "history", None)
        epochs = len(history) if history is not None else params.get("max_epochs", 0)
    t0 = time.perf_counter()
    pred = est.predict(X_test)
    sync(cfg["device"])
    predict_s = time.perf_counter() - t0
    if not isinstance(pred, np.ndarray):
        contract.append(f"predict returned a {type(pred).__name__}, not an array")
    if len(pred) != len(X_test):
        contract.append(f"predict returned {len(pred)} answers for {len(X_test)} questions")
    if not all(isinstance(p, str) for p in pred):
        kinds = sorted({type(p).__name__ for p in pred})
        contract.append(f"predict returned {kinds}, not only str")
        pred = ["" if p is None else str(p) for p in pred]
    est.save_pretrained(os.path.join(cfg["save_dir"], "package"))  # for the onnx_int8 arm
    params_used = est.get_params()
    note = ", ".join(
        f"{k}={params_used.get(k)!r}"
        for k in ("max_length", "stride", "batch_size", "lr", "max_epochs")
    )
    return result(
        cfg,
        y_test,
        list(pred),
        train_s=train_s,
        predict_s=predict_s,
        epochs=int(epochs),
        n_train=len(X),
        n_test=len(X_test),
        note=note,
        contract=contract,
    )


def arm_onnx_int8(cfg):
    """The package arm's fitted model, exported with int8 weights, run by the torch-free runtime."""
    X, y, X_test, y_test = fold_data(cfg)
    from sktransformers import TransformerQuestionAnswerer, onnx

    fitted = TransformerQuestionAnswerer.from_pretrained(
        os.path.join(cfg["save_dir"], "package"), device="cpu"
    )
    exported = fitted.export_onnx(os.path.join(cfg["save_dir"], "onnx"), quantize="int8")
    runtime = onnx.load(exported, precision="int8", threads=cfg["threads"])
    runtime.predict(X_test[:2])  # the first call's session start is not timed
    t0 = time.perf_counter()
    pred = runtime.predict(X_test)
    predict_s = time.perf_counter() - t0
    return result(
        cfg,
        y_test,
        list(pred),
        train_s=float("nan"),
        predict_s=predict_s,
        epochs=0,
        n_train=len(X),
        n_test=len(X_test),
        note="the package arm's model; onnxruntime, int8 MatMul weights, CPU",
    )


def arm_trainer(cfg):
    import numpy as np
    import torch
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        default_data_collator,
        set_seed,
    )

    X, y, X_test, y_test = fold_data(cfg)
    gpu = cfg["device"].startswith("cuda")
    warm_imports()
    sync(cfg["device"])
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(cfg["model"])
    enc = prepare_train_features(
        tok, X["question"].tolist(), X["context"].tolist(), y, cfg["max_length"], cfg["stride"]
    )
    train = [{k: enc[k][i] for k in enc.keys()} for i in range(len(enc["input_ids"]))]
    set_seed(cfg["seed"])  # as run_qa.py, before the model (its QA head) is made
    model = AutoModelForQuestionAnswering.from_pretrained(cfg["model"], dtype=torch.float32)
    # transformers 5 folds warmup_ratio into warmup_steps (a float below 1 is a ratio).
    fields = TrainingArguments.__dataclass_fields__
    warmup = "warmup_ratio" if "warmup_ratio" in fields else "warmup_steps"
    with tempfile.TemporaryDirectory() as out:
        args = trainer_arguments(
            out,
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            epochs=cfg["epochs"],
            seed=cfg["seed"],
            cpu=not gpu,
            bf16=cfg["bf16"],
            weight_decay=cfg["weight_decay"],
            **{warmup: cfg["warmup_ratio"]},
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train,
            data_collator=default_data_collator,
            processing_class=tok,
        )
        trainer.train()
        sync(cfg["device"])
        train_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        features = prepare_validation_features(
            tok,
            X_test["question"].tolist(),
            X_test["context"].tolist(),
            cfg["max_length"],
            cfg["stride"],
        )
        inputs = [
            {k: features[k][i] for k in tok.model_input_names if k in features}
            for i in range(len(features["input_ids"]))
        ]
        start_logits, end_logits = trainer.predict(inputs).predictions[:2]
        pred = postprocess_qa_predictions(
            X_test["context"].tolist(),
            features,
            (np.asarray(start_logits), np.asarray(end_logits)),
            version_2_with_negative=True,
            n_best_size=N_BEST_SIZE,
            max_answer_length=MAX_ANSWER_LENGTH,
            null_score_diff_threshold=NULL_SCORE_DIFF_THRESHOLD,
        )
        sync(cfg["device"])
        predict_s = time.perf_counter() - t0
    if cfg.get("save_dir"):  # for the pipeline arm (not timed)
        trainer.save_model(cfg["save_dir"])
        tok.save_pretrained(cfg["save_dir"])
    return result(
        cfg,
        y_test,
        pred,
        train_s=train_s,
        predict_s=predict_s,
        epochs=cfg["epochs"],
        n_train=len(X),
        n_test=len(X_test),
        n_train_features=len(train),
        note=(
            f"{len(train)} training windows, {cfg['epochs']} epoch(s) ({cfg['epochs_from']}); "
            f"{'bf16' if cfg['bf16'] else 'fp32'}"
        ),
    )


def arm_pipeline(cfg):
    X, y, X_test, y_test = fold_data(cfg)
    gpu = cfg["device"].startswith("cuda")
    warm_imports()
    pipe, impl = qa_pipeline(cfg["save_dir"], 0 if gpu else -1)
    sync(cfg["device"])
    t0 = time.perf_counter()
    out = pipe(
        question=X_test["question"].tolist(),
        context=X_test["context"].tolist(),
        handle_impossible_answer=True,
        max_seq_len=cfg["max_length"],
        doc_stride=cfg["stride"],
    )
    sync(cfg["device"])
    predict_s = time.perf_counter() - t0
    if isinstance(out, dict):  # one question
        out = [out]
    pred = [o["answer"] for o in out]
    return result(
        cfg,
        y_test,
        pred,
        train_s=float("nan"),
        predict_s=predict_s,
        epochs=cfg["epochs"],
        n_train=len(X),
        n_test=len(X_test),
        note=f"{impl}; the trainer arm's model",
    )


ARM_FUNCS = {
    "no_answer": arm_no_answer,
    "lexical": arm_lexical,
    "package": arm_package,
    "onnx_int8": arm_onnx_int8,
    "trainer": arm_trainer,
    "pipeline": arm_pipeline,
}


def child(cfg):
    import torch

    torch.set_num_threads(cfg["threads"])
    print("RESULT " + json.dumps(ARM_FUNCS[cfg["arm"]](cfg)), flush=True)


# ----------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------
def train_rate(r):
    """Training questions x epochs per second (nan for arms that do not train)."""
    if not r.get("epochs") or not r.get("train_s") or r["train_s"] != r["train_s"]:
        return float("nan")
    return r["n_train"] * r["epochs"] / r["train_s"]


def predict_rate(r):
    return r["n_test"] / r["predict_s"] if r.get("predict_s") else float("nan")


def fmt(value, spec=".1f"):
    return "–" if value is None or value != value else format(value, spec)


TABLE_HEAD = (
    "| arm | EM | F1 | HasAns F1 | NoAns F1 | epochs | train s | train questions/s "
    "| predict s | predict questions/s | note |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def table_row(arm, m, note):
    """One table line; ``m``: scores, ``epochs``, ``train_s``, ``predict_s`` and the rates."""
    trained = arm in ("package", "trainer")
    timed = arm != "no_answer"  # nothing to time in always saying ""
    return (
        f"| {LABELS[arm]} | {m['exact']:.1f} | {m['f1']:.1f} | {fmt(m['has_f1'])} "
        f"| {fmt(m['no_f1'])} | {m['epochs'] if trained else '–'} "
        f"| {fmt(m['train_s']) if timed and arm not in ('pipeline', 'onnx_int8') else '–'} "
        f"| {fmt(m['train_rate'])} | {fmt(m['predict_s'], '.2f') if timed else '–'} "
        f"| {fmt(m['predict_rate']) if timed else '–'} | {note} |"
    )


def fold_table(results):
    lines = [TABLE_HEAD]
    for arm, r in results.items():
        m = {**r, "train_rate": train_rate(r), "predict_rate": predict_rate(r)}
        lines.append(table_row(arm, m, r.get("note", "")))
    return "\n".join(lines)


def mean_row(runs):
    """One arm over the folds: mean scores; rates pooled (all questions / all seconds)."""
    mean = {
        k: statistics.mean(r[k] for r in runs)
        for k in ("exact", "f1", "has_f1", "no_f1", "train_s", "predict_s")
    }
    n_train_epochs = sum(r["n_train"] * r["epochs"] for r in runs)
    train_s = sum(r["train_s"] for r in runs)
    trains = any(r["epochs"] for r in runs) and train_s and train_s == train_s
    mean["train_rate"] = n_train_epochs / train_s if trains else float("nan")
    predict_s = sum(r["predict_s"] for r in runs)
    mean["predict_rate"] = sum(r["n_test"] for r in runs) / predict_s if predict_s else float("nan")
    mean["epochs"] = "/".join(str(r["epochs"]) for r in runs)
    return mean


def mean_table(by_arm):
    lines = [TABLE_HEAD]
    for arm, runs in by_arm.items():
        lines.append(table_row(arm, mean_row(runs), f"mean of {len(runs)} fold(s)"))
    return "\n".join(lines)


def targets(by_arm):
    """The issue's targets, on the means over the folds (rates pooled)."""
    means = {arm: mean_row(runs) for arm, runs in by_arm.items()}
    checks = []

    def check(name, ours, ref, factor, what):
        if ours is None or ref is None:
            checks.append(f"{name}: not measured (arms missing)")
            return
        ratio = ours / ref if ref else float("inf")
        ok = "met" if ratio >= factor else "NOT met"
        checks.append(
            f"{name}: {fmt(ours, '.2f')} vs {fmt(ref, '.2f')} {what} = {ratio:.2f}x "
            f"(target >= {factor:g}x: {ok})"
        )

    p, t, q = means.get("package"), means.get("trainer"), means.get("pipeline")
    if p and t:
        diff = p["f1"] - t["f1"]
        checks.append(
            f"package F1 >= trainer F1: {p['f1']:.1f} vs {t['f1']:.1f} "
            f"({diff:+.1f} points: {'met' if diff >= 0 else 'NOT met'})"
        )
    else:
        checks.append("package F1 >= trainer F1: not measured (arms missing)")
    check(
        "package train questions/s >= 1.5x trainer's",
        p and p["train_rate"],
        t and t["train_rate"],
        1.5,
        "questions/s",
    )
    check(
        "package predict questions/s >= 2x pipeline's",
        p and p["predict_rate"],
        q and q["predict_rate"],
        2.0,
        "questions/s",
    )
    o = means.get("onnx_int8")
    if o:
        check(
            "its int8 ONNX export's questions/s >= 2x pipeline's",
            o["predict_rate"],
            q and q["predict_rate"],
            2.0,
            "questions/s",
        )
    return "Targets (means over the folds): " + "; ".join(checks) + "."


# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------
def package_defaults():
    """The defaults of ``TransformerQuestionAnswerer`` (constants while it cannot be imported)."""
    try:
        from sktransformers import TransformerQuestionAnswerer

        params = TransformerQuestionAnswerer().get_params()
        return {k: params.get(k, v) for k, v in FALLBACK_DEFAULTS.items()}
    except Exception:  # noqa: BLE001  (the estimator may be mid-writing)
        return dict(FALLBACK_DEFAULTS)


def parse_params(text):
    """``"stride=128,lr=1e-4"`` -> ``{"stride": 128, "lr": 1e-4}`` (bare words stay strings)."""
    import ast

    params = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[key.strip()] = value.strip()
    return params


def parse_folds(text, titles):
    if not text:
        return titles
    folds = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        if item.isdigit() and int(item) < len(titles):
            folds.append(titles[int(item)])
        elif item in titles:
            folds.append(item)
        else:
            raise SystemExit(
                f"unknown fold {item!r}: an index 0-{len(titles) - 1} or one of {titles}"
            )
    return folds


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    p.add_argument(
        "--folds",
        default="",
        help="held-out articles, comma-separated indices 0-3 or titles (default: all four)",
    )
    p.add_argument(
        "--epochs",
        type=lambda v: v if v == "auto" else int(v),
        default=None,
        help="epochs of both trained arms (default 'auto': the package's max_epochs='auto', "
        "and the Trainer trains what the package trained on the same fold; --smoke: 1)",
    )
    p.add_argument(
        "--package-params",
        default="",
        help="package arm: parameters other than its defaults, NAME=VALUE,... (e.g. stride=128)",
    )
    p.add_argument("--train-size", type=int, default=0, help="training questions (0 = all)")
    p.add_argument("--test-size", type=int, default=0, help="held-out questions (0 = all)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="40 training and 20 held-out questions, 1 epoch, max_length 128, stride 32, one fold",
    )
    p.add_argument("--model", default=None, help="model id or directory (default: the package's)")
    p.add_argument("--data-dir", default=None, help="data folder (default: as the loaders find it)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads per arm")
    p.add_argument("--cpu", action="store_true", help="stay on the CPU even with a GPU")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args._child:
        return child(json.loads(args._child))

    import torch

    from sktransformers.datasets import load_squad2_subset
    from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        raise SystemExit(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    arms = [a for a in ARMS if a in arms]  # package before trainer before pipeline
    if "onnx_int8" in arms and "package" not in arms:
        raise SystemExit("the onnx_int8 arm exports the package arm's model: add 'package'")
    if "pipeline" in arms and "trainer" not in arms:
        raise SystemExit("the pipeline arm predicts with the trainer arm's model: add 'trainer'")
    titles = articles(load_squad2_subset(data_dir=args.data_dir))
    folds = parse_folds(args.folds, titles)
    defaults = package_defaults()
    max_length, stride = RUN_QA_MAX_LENGTH, RUN_QA_DOC_STRIDE
    if args.smoke:
        folds = folds[:1]
        args.train_size, args.test_size = args.train_size or 40, args.test_size or 20
        args.epochs = args.epochs or 1
        max_length, stride = 128, 32
    if args.epochs == "auto":
        args.epochs = None
    gpu = not args.cpu and torch.cuda.is_available()
    cfg = {
        "model": str(args.model or resolve_model(DEFAULT_MODEL)),
        "data_dir": args.data_dir,
        "device": "cuda" if gpu else "cpu",
        "cpu": args.cpu,
        "bf16": gpu,  # the Trainer on a GPU: bf16 autocast, as in bench_tasks.py
        "epochs": args.epochs,
        "batch_size": defaults["batch_size"],
        "lr": defaults["lr"],
        "weight_decay": defaults["weight_decay"],
        "warmup_ratio": defaults["warmup_ratio"],
        "max_length": max_length,
        "stride": stride,
        "seed": args.seed,
        "threads": args.threads,
        "train_size": args.train_size,
        "test_size": args.test_size,
        "smoke": args.smoke,
        "package_params": parse_params(args.package_params),
    }
    command = "python benchmarks/bench_qa.py " + " ".join(sys.argv[1:] if argv is None else argv)
    info = machine()
    load_before = load()
    started = time.perf_counter()
    print(f"# {command}\n# {info}\n# load before: {load_before}\n# {cfg}", flush=True)

    per_fold = {}
    for fold in folds:
        results = {}
        with tempfile.TemporaryDirectory(prefix="bench_qa_") as save_dir:
            for arm in arms:
                run = {**cfg, "arm": arm, "fold": fold, "save_dir": save_dir}
                if arm in ("trainer", "pipeline"):
                    if args.epochs is not None:
                        run["epochs"], run["epochs_from"] = args.epochs, "--epochs"
                    elif "package" in results:
                        run["epochs"] = results["package"]["epochs"]
                        run["epochs_from"] = "the package's max_epochs_ on this fold"
                    else:
                        run["epochs"] = TRAINER_DEFAULT_EPOCHS
                        run["epochs_from"] = "TrainingArguments' default; package arm not run"
                results[arm] = r = run_child(__file__, run)
                shown = {k: v for k, v in r.items() if k not in ("note",)}
                print(f"{fold} {arm}: {json.dumps(shown)}", flush=True)
                if r.get("contract"):
                    print(f"{fold} package contract: {r['contract']}", flush=True)
        per_fold[fold] = results

    load_after = load()
    model_name = f"`{args.model}`" if args.model else f"{DEFAULT_MODEL} (the packaged copy)"
    head = (
        f"Date: {datetime.date.today().isoformat()}. Machine: {info['cpu']}, {info['cores']} cores "
        f"({args.threads} torch threads per arm)"
        + (f", GPU {info['gpu']}" if gpu else ", no GPU")
        + f"; torch {info['torch']}, transformers {info['transformers']}.\n"
        f"Command: `{command}`. Load average (1/5/15 min) before: {load_before}; after: "
        f"{load_after}. Wall time {time.perf_counter() - started:.0f} s.\n"
        f"Model: {model_name} (float32 weights{', bf16 autocast' if gpu else ''}). Trainer and "
        f"pipeline: max_length {max_length}, stride {stride}"
        + ("" if args.smoke else " (run_qa.py's max_seq_length and doc_stride)")
        + f"; batch {cfg['batch_size']}, lr {cfg['lr']}, weight decay {cfg['weight_decay']}, "
        f"warmup {cfg['warmup_ratio']} (the package's defaults); the package arm's settings "
        f"are in its note. Seed {args.seed}. SQuAD 2.0 subset "
        f"(`load_squad2_subset`), validation by article: train on the other articles, score on "
        f"the held-out one"
        + (
            f" ({args.train_size or 'all'} training / {args.test_size or 'all'} held-out "
            "questions, seeded subsets)"
            if args.train_size or args.test_size
            else ""
        )
        + ". EM / F1: SQuAD 2.0's official evaluation, in percent.\n"
    )
    blocks = []
    for fold, results in per_fold.items():
        r = next(iter(results.values()))
        blocks.append(
            f"Held out: {fold} ({r['n_test']} questions: {r['n_has']} answerable, {r['n_no']} "
            f"not; {r['n_train']} training questions).\n\n" + fold_table(results)
        )
    by_arm = {arm: [per_fold[f][arm] for f in per_fold] for arm in arms}
    if len(per_fold) > 1:
        blocks.append(
            f"Mean over the {len(per_fold)} folds (train / predict questions/s pooled: all "
            "questions over all seconds; epochs per fold).\n\n" + mean_table(by_arm)
        )
    blocks.append(targets(by_arm))
    contract = sorted({c for runs in by_arm.get("package", []) for c in runs.get("contract", [])})
    if contract:
        blocks.append(
            "TransformerQuestionAnswerer differs from its contract: " + "; ".join(contract)
        )
    text = head + "\n" + "\n\n".join(blocks) + "\n"
    print("\n" + text)
    if not args.no_write:
        out = RESULTS / ("qa_gpu.md" if gpu else "qa_cpu.md")
        name = "qa" + (
            "" if folds == titles else "_folds_" + "_".join(str(titles.index(f)) for f in folds)
        )
        write_section(out, name + ("_smoke" if args.smoke else ""), text)
        print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
