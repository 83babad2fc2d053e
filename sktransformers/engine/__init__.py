"""The engine: what every estimator shares.

The base estimator (parameters, validation, the fit / partial_fit / predict
loop over a list of tasks), the torch model (backbone, pooling, heads), the
skorch net, the data path, the device runtime, callbacks, checkpoints,
data-parallel training, LoRA and freezing, model loading and saving.
It imports :mod:`sktransformers.tasks` and :mod:`sktransformers.utils` only.
"""
