"""Does the tokenizer know the training texts' characters? A check run once in ``fit``.

A model whose vocabulary lacks a script reads most of a text in that script
as the unknown token: the default model (``all-MiniLM-L6-v2``, an English
uncased WordPiece vocabulary) holds 244 CJK characters, and 63 % of the
tokens of the ChnSentiCorp hotel reviews come out as ``[UNK]``. Fine-tuning
then learns from the few characters it can see, and nothing fails loudly.
:func:`unk_share` measures the share of the texts' characters that the
tokenizer maps to its unknown token; :func:`check_coverage` warns above
``THRESHOLD`` and suggests a checkpoint for the script.

Cheap by construction: at most ``MAX_TEXTS`` texts (spread over the data)
and ``MAX_CHARS`` characters each are tokenized a second time: about 0.2 s
for 500 hotel reviews on one CPU core, next to minutes of training.
"""

from __future__ import annotations

import unicodedata
import warnings

import numpy as np

#: Above this share of unknown characters, ``fit`` warns.
THRESHOLD = 0.10
#: Texts and characters per text looked at.
MAX_TEXTS = 500
MAX_CHARS = 256

#: Checkpoints to suggest per script (Hugging Face ids).
SUGGESTIONS = {
    "Han": ("bert-base-chinese", "hfl/chinese-roberta-wwm-ext"),
    "Hiragana/Katakana": ("cl-tohoku/bert-base-japanese-v3", "xlm-roberta-base"),
    "Hangul": ("klue/bert-base", "xlm-roberta-base"),
}
_MULTILINGUAL = ("xlm-roberta-base", "bert-base-multilingual-cased")


def _texts(inputs, max_texts=MAX_TEXTS):
    """Texts of a :class:`TextInput` (both sides of pairs) or :class:`WordInput`, sampled."""
    if hasattr(inputs, "texts"):
        texts = list(inputs.texts)
    else:
        texts = list(inputs.first) + [t for t in (inputs.second or []) if t is not None]
    if len(texts) > max_texts:  # evenly spread: deterministic, no random state touched
        texts = [texts[i] for i in np.linspace(0, len(texts) - 1, max_texts).astype(int)]
    return [t[:MAX_CHARS] for t in texts]


def _script(char):
    name = unicodedata.name(char, "")
    if name.startswith(("CJK", "IDEOGRAPHIC")):
        return "Han"
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "Hiragana/Katakana"
    if name.startswith("HANGUL"):
        return "Hangul"
    return name.split(" ")[0].title() if name else "unknown"


def unk_share(tokenizer, texts):
    """Share of the non-space characters of ``texts`` that ``tokenizer`` maps to its unknown token.

    With a fast tokenizer, the characters inside every unknown token's
    span count (``offset_mapping``); with a slow one, the share of
    unknown tokens among the non-special tokens. A tokenizer without an
    unknown token (byte-level BPE) gives 0.

    Returns
    -------
    share : float
    scripts : collections.Counter
        The scripts (first word of the Unicode name, "Han" for CJK ideographs)
        of the unknown characters.
    """
    from collections import Counter

    unk_id = getattr(tokenizer, "unk_token_id", None)
    scripts = Counter()
    if unk_id is None or not texts:
        return 0.0, scripts
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(
            texts,
            add_special_tokens=False,
            truncation=False,
            return_offsets_mapping=True,
            verbose=False,
        )
        unknown = total = 0
        for text, ids, offsets in zip(texts, enc["input_ids"], enc["offset_mapping"]):
            total += sum(not c.isspace() for c in text)
            for token, (start, end) in zip(ids, offsets):
                if token == unk_id:
                    chars = [c for c in text[start:end] if not c.isspace()]
                    unknown += len(chars)
                    scripts.update(_script(c) for c in chars)
        return (unknown / total if total else 0.0), scripts
    ids = [i for t in texts for i in tokenizer(t, add_special_tokens=False)["input_ids"]]
    return (sum(i == unk_id for i in ids) / len(ids) if ids else 0.0), scripts


def check_coverage(estimator, inputs):
    """Measure the unknown-character share of the training texts; warn above ``THRESHOLD``.

    Called once by ``fit`` after the tokenizer is loaded. Returns the share
    (stored as ``unk_share_``).
    """
    share, scripts = unk_share(estimator.tokenizer_, _texts(inputs))
    if share > THRESHOLD:
        script = scripts.most_common(1)[0][0] if scripts else None
        suggestion = " or ".join(f"model={m!r}" for m in SUGGESTIONS.get(script, _MULTILINGUAL))
        seen = f", mostly {script} characters" if script else ""
        warnings.warn(
            f"The tokenizer of model={estimator.model!r} maps {share:.0%} of the training "
            f"texts' characters to its unknown token{seen}: the model cannot read them. "
            f"Pass a model whose vocabulary covers the script, e.g. {suggestion} "
            "(see the 'Chinese text' page of the docs).",
            UserWarning,
            stacklevel=_caller_level(),
        )
    return share


def _caller_level():
    """The ``stacklevel`` of the first frame outside sktransformers and scikit-learn.

    The warning then points at the user's ``fit`` call, however many of the
    package's (and ``_fit_context``'s) frames lie between.
    """
    import sys

    frame, level = sys._getframe(1), 1  # check_coverage, which calls warnings.warn: level 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        ("sktransformers", "sklearn")
    ):
        frame, level = frame.f_back, level + 1
    return level
