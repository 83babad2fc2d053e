"""Experiment tracking and hyper-parameter search.

Public as :mod:`sktransformers.tracking` and :mod:`sktransformers.tuning`.
"""
