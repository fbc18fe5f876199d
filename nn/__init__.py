"""chainrule's neural-network library, built only on ``autograd``'s public API.

* ``Module``, ``Parameter`` (``nn.module``): parameters, buffers, state dicts;
* layers (``nn.layers``): ``Linear``, ``Sequential``, ``MLP``, activations,
  ``Dropout``, ``RNNCell``, ``RNN``, ``Embedding``; ``BatchNorm1d`` (``nn.batchnorm``);
* losses: functions in ``nn.functional`` and modules here (``CrossEntropyLoss``, ...);
* ``nn.init``, ``nn.optim``, ``nn.data``, ``nn.train``; ``nn.save`` / ``nn.load``
  (``nn.LoadError`` when ``load`` refuses a file);
* ``nn.compile_step(model, loss_fn, optimizer)``: a whole training step compiled into one
  generated function (``autograd.compiler.compile_step``, re-exported).

Names follow PyTorch so habits carry over.

>>> import numpy as np
>>> import nn
>>> net = nn.Sequential(nn.Linear(2, 3, generator=np.random.default_rng(0)), nn.ReLU())
>>> [name for name, _ in net.named_parameters()]
['0.weight', '0.bias']
"""

from autograd.compiler import compile_step
from nn import data, functional, init, optim, train
from nn.batchnorm import BatchNorm1d
from nn.layers import (
    MLP,
    RNN,
    Dropout,
    Embedding,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    RNNCell,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from nn.module import Module, Parameter
from nn.serialization import LoadError, load, save

__all__ = [
    "Module",
    "Parameter",
    "Linear",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Sequential",
    "MLP",
    "BatchNorm1d",
    "Dropout",
    "RNNCell",
    "RNN",
    "Embedding",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCEWithLogitsLoss",
    "BCELoss",
    "MSELoss",
    "functional",
    "init",
    "optim",
    "data",
    "train",
    "save",
    "load",
    "LoadError",
    "compile_step",
]
