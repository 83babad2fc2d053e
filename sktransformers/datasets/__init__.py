"""Small data sets shipped with the package, and loaders for local copies of public ones.

Shipped (synthetic, written for this package; for demos and smoke tests):

- :func:`load_movie_reviews_sample`: 600 short movie reviews, binary sentiment.
- :func:`load_ner_sample`: 200 sentences tagged for named entities (IOB2).

Read from a local folder (nothing is downloaded; :func:`get_data_dir` gives
the data folder, ``$SKTRANSFORMERS_DATA_DIR`` first, and :func:`find_data_file`
where each file is looked for):

- :func:`load_glue`: a GLUE task (SST-2, CoLA, MRPC, STS-B, RTE).
- :func:`load_conll2003`: CoNLL-2003 English NER, one tag per word.
- :func:`load_semeval2018_ec`: SemEval-2018 E-c tweets, 11 emotion labels each
  (multi-label).
- :func:`load_chnsenticorp`: ChnSentiCorp Chinese hotel reviews, binary sentiment.
- :func:`load_peoples_daily_ner`: People's Daily Chinese NER, one tag per character.
- :func:`read_squad` / :func:`load_squad2_subset`: extractive question answering in
  the SQuAD JSON layout (questions, contexts, answers with character offsets).
- :func:`load_long_reviews`: long texts built from SST-2 sentences placed
  behind neutral filler, for checking how a model reads past ``max_length``
  (:func:`make_long_texts` does the same with any short labelled texts).
"""

from ._chinese import (
    PEOPLES_DAILY_TAGS,
    load_chnsenticorp,
    load_peoples_daily_ner,
    read_char_tags,
)
from ._local import (
    CONLL2003_TAGS,
    ENV_VAR,
    GLUE_TASKS,
    SEMEVAL2018_EMOTIONS,
    find_data_file,
    get_data_dir,
    load_conll2003,
    load_glue,
    load_long_reviews,
    load_semeval2018_ec,
    make_long_texts,
    read_conll,
)
from ._shipped import load_movie_reviews_sample, load_ner_sample
from ._squad import load_squad2_subset, read_squad

__all__ = [
    "CONLL2003_TAGS",
    "ENV_VAR",
    "GLUE_TASKS",
    "PEOPLES_DAILY_TAGS",
    "SEMEVAL2018_EMOTIONS",
    "find_data_file",
    "get_data_dir",
    "load_chnsenticorp",
    "load_conll2003",
    "load_glue",
    "load_long_reviews",
    "load_movie_reviews_sample",
    "load_ner_sample",
    "load_peoples_daily_ner",
    "load_semeval2018_ec",
    "load_squad2_subset",
    "make_long_texts",
    "read_char_tags",
    "read_conll",
    "read_squad",
]
