"""Deployment: ONNX export, the torch-free ONNX runtime and the HTTP server.

Public as :func:`sktransformers.export_onnx`, :mod:`sktransformers.onnx` and
``sktransformers serve``. Importing this package imports neither torch nor
transformers (the runtime must not).
"""
