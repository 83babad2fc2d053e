import pytest

from sktransformers.datasets import GLUE_TASKS, load_glue, load_movie_reviews_sample


def test_movie_reviews_sample_is_balanced_binary_text():
    df = load_movie_reviews_sample()
    assert list(df.columns) == ["text", "label"]
    assert df.text.map(type).eq(str).all()
    counts = df.label.value_counts()
    assert set(counts.index) == {0, 1}
    assert counts.min() > 0.4 * len(df)


@pytest.mark.parametrize("task", sorted(GLUE_TASKS))
def test_load_glue_reads_every_task(task, glue_dir):
    X, y = load_glue(task, "dev", glue_dir)
    assert len(X) == len(y) > 200
    pair = task in {"MRPC", "STS-B", "RTE"}
    assert (X.ndim == 2) == pair
    if task == "STS-B":
        assert y.between(0, 5).all()
    else:
        assert y.nunique() == 2


def test_load_glue_rejects_unknown_task(tmp_path):
    with pytest.raises(ValueError, match="Unknown GLUE task"):
        load_glue("QNLI", "dev", tmp_path)
