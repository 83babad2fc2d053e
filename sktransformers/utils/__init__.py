"""The bottom layer: input checks, file schemas, optional extras, logging, JSON values.

Nothing here imports torch or any other layer of the package.
"""
