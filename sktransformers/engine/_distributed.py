"""Data-parallel training with ``torch.distributed`` under ``torchrun``.

Launched by ``torchrun --nproc_per_node=N script.py`` (or ``accelerate
launch``), each of the N processes runs the same script; the launcher sets
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``. When ``WORLD_SIZE > 1`` every
estimator's ``fit`` then:

* joins the process group (NCCL on GPUs, Gloo on CPUs) if the script has
  not already, and uses GPU ``LOCAL_RANK`` when the device is CUDA;
* trains through :class:`torch.nn.parallel.DistributedDataParallel`: every
  process draws the same shuffled batches (same seed) and computes the
  gradient of its share of each batch; DDP averages the gradients, weighted
  so that each step equals one step on the whole batch. ``batch_size`` stays
  the global batch size, so hyper-parameters, the learning-rate schedule and
  (up to floating-point rounding) the trained model are those of one process;
* validates and predicts on the whole data in every process, so early
  stopping decides the same everywhere and every process can predict;
* writes checkpoints (``Checkpoint`` callbacks, ``net_.save_params``) and
  ``save_pretrained`` directories from rank 0 only; elsewhere they do nothing.

Set ``SKTRANSFORMERS_DISTRIBUTED=0`` to train independently in each process.
"""

from __future__ import annotations

import collections
import inspect
import os

import torch

from ._net import TransformerNet


def world_size():
    if os.environ.get("SKTRANSFORMERS_DISTRIBUTED", "1") == "0":
        return 1
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def rank():
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def is_main_process():
    """False on the processes of a data-parallel run that must not write files."""
    return world_size() <= 1 or rank() == 0


def _active():
    return (
        world_size() > 1
        and torch.distributed.is_available()
        and torch.distributed.is_initialized()
        and torch.distributed.get_world_size() > 1
    )


def resolve_net_class(net_class, device):
    """The net class and device of this process: data-parallel under torchrun."""
    if world_size() <= 1:
        return net_class, device
    dist = torch.distributed
    if not dist.is_available():  # pragma: no cover - torch built without distributed
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed.")
    cuda = str(device).startswith("cuda")
    if cuda and ":" not in str(device):
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if cuda:
        torch.cuda.set_device(torch.device(device))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return distributed_class(net_class), device


class _DistributedMixin:
    """DDP for training steps; everything else as the wrapped net does it."""

    def initialize(self):
        super().initialize()
        if _active() and rank() > 0:
            # Own dropout masks per process (DDP broadcasts rank 0's weights).
            torch.manual_seed(self.seed + rank())
        return self

    def _ddp(self):
        plain = self.module_
        cached = self.__dict__.get("_ddp_cache")
        if cached is None or cached[0] is not plain:
            device = torch.device(self.device)
            ddp = torch.nn.parallel.DistributedDataParallel(
                plain,
                device_ids=[device.index] if device.type == "cuda" else None,
                # Unused: the backbone's pooler, other tasks' heads, frozen parts.
                find_unused_parameters=True,
                # Transformers keep no running statistics; skip a collective per forward.
                **_no_buffer_sync_per_forward(),
            )
            self.__dict__["_ddp_cache"] = (plain, ddp)
        return self.__dict__["_ddp_cache"][1]

    def infer(self, x, **fit_params):
        plain = self.module_
        if not (_active() and plain.training and torch.is_grad_enabled()):
            return super().infer(x, **fit_params)
        # Training forward through DDP so that backward averages gradients;
        # module_ stays the plain module everywhere else (state dicts,
        # checkpoints, early stopping's best weights keep their keys).
        self.__dict__["module_"] = self._ddp()
        try:
            return super().infer(x, **fit_params)
        finally:
            self.__dict__["module_"] = plain

    def get_iterator(self, dataset, training=False):
        loader = super().get_iterator(dataset, training=training)
        self.__dict__["_shard"] = None
        if not (training and _active()):
            return loader
        shard = _ShardedBatches(loader.batch_sampler, rank(), torch.distributed.get_world_size())
        self.__dict__["_shard"] = shard
        return torch.utils.data.DataLoader(
            loader.dataset,
            batch_sampler=shard,
            collate_fn=loader.collate_fn,
            pin_memory=loader.pin_memory,
            num_workers=loader.num_workers,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        shard = self.__dict__.get("_shard")
        if training and shard is not None:
            # DDP averages over processes; weight each by its share of the batch.
            loss = loss * shard.weights.popleft()
        return loss

    def save_params(self, *args, **kwargs):
        if is_main_process():
            return super().save_params(*args, **kwargs)
        return None

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_ddp_cache", None)
        state.pop("_shard", None)
        return state


class _ShardedBatches:
    """This process's share of every batch of a batch sampler."""

    def __init__(self, batch_sampler, rank, world_size):
        self.batch_sampler = batch_sampler
        self.rank = rank
        self.world_size = world_size
        # One weight per batch drawn; the loss of each training step takes the
        # oldest (batches are trained on in the order they are drawn).
        self.weights = collections.deque()

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        for batch in self.batch_sampler:
            batch = list(batch)
            share = batch[self.rank :: self.world_size]
            if share:
                self.weights.append(len(share) * self.world_size / len(batch))
            else:
                # Fewer texts than processes: take part in the step with a
                # zero-weighted text, as every process must.
                share = batch[:1]
                self.weights.append(0.0)
            yield share


class DistributedTransformerNet(_DistributedMixin, TransformerNet):
    """:class:`~sktransformers.engine._net.TransformerNet` trained with DDP under torchrun."""


_CLASSES = {TransformerNet: DistributedTransformerNet}


def distributed_class(net_class):
    """The data-parallel subclass of ``net_class`` (module-level, so it pickles)."""
    if net_class not in _CLASSES:
        name = f"Distributed{net_class.__name__}"
        cls = type(name, (_DistributedMixin, net_class), {"__module__": __name__})
        globals()[name] = cls
        _CLASSES[net_class] = cls
    return _CLASSES[net_class]


def _no_buffer_sync_per_forward():
    """DDP keyword that turns off the buffer broadcast before every forward.

    torch 2.13 renamed ``broadcast_buffers`` to ``forward_sync_buffers`` (the
    old name warns); older versions know only the old one.
    """
    params = inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters
    if "forward_sync_buffers" in params:
        return {"forward_sync_buffers": False}
    return {"broadcast_buffers": False}
