"""Memory across consecutive fits: is the previous model released?

Fits the same estimator again and again (a refit), then fresh clones that
are dropped after each fit (what a search does with its candidates), and
prints the process RSS (and ``torch.cuda.memory_allocated`` on a GPU) after
every fit. Flat columns mean nothing leaks from one fit to the next.

    python benchmarks/bench_memory.py                 # tiny random model, 20 fits
    python benchmarks/bench_memory.py --model default --n-fits 10
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def tiny_model(path):
    """A 2-layer 32-wide random BERT with the real MiniLM tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from sktransformers.engine._hub import DEFAULT_MODEL, resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(path)
    return path


def rss_mb():
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def cuda_mb():
    import torch

    if not torch.cuda.is_available():
        return float("nan")
    torch.cuda.synchronize()
    return torch.cuda.memory_allocated() / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="'tiny', 'default' or a model directory")
    parser.add_argument("--n-fits", type=int, default=20)
    parser.add_argument("--n-samples", type=int, default=64)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    from sklearn.base import clone

    from sktransformers import TransformerClassifier
    from sktransformers.engine._hub import DEFAULT_MODEL

    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "tiny":
            model = tiny_model(tmp)
        elif args.model == "default":
            model = DEFAULT_MODEL
        else:
            model = args.model
        words = ["great", "awful", "fine", "dull", "superb", "boring", "moving", "flat"]
        X = [f"a {words[i % 8]} film number {i}" for i in range(args.n_samples)]
        y = [i % 2 for i in range(args.n_samples)]
        template = TransformerClassifier(
            model, max_epochs=1, batch_size=16, device=args.device, random_state=0
        )
        print(f"model={args.model} n_fits={args.n_fits} n_samples={args.n_samples}")
        print(
            f"{'fit':>4} {'refit RSS MB':>13} {'refit CUDA MB':>14} "
            f"{'clone RSS MB':>13} {'clone CUDA MB':>14}"
        )
        rows = []
        est = clone(template)
        for i in range(args.n_fits):
            est.fit(X, y)
            refit = (rss_mb(), cuda_mb())
            # A search drops each candidate without collecting garbage itself.
            fresh = clone(template).fit(X, y)
            fresh.predict(X[:4])
            del fresh
            rows.append((*refit, rss_mb(), cuda_mb()))
            print(
                f"{i + 1:>4} {rows[-1][0]:>13.1f} {rows[-1][1]:>14.1f} "
                f"{rows[-1][2]:>13.1f} {rows[-1][3]:>14.1f}"
            )
        warm = min(3, len(rows) - 1)
        print(
            f"growth after fit {warm + 1} -> {len(rows)}: "
            f"RSS {rows[-1][2] - rows[warm][2]:+.1f} MB, "
            f"CUDA {rows[-1][3] - rows[warm][3]:+.1f} MB"
        )


if __name__ == "__main__":
    main()
