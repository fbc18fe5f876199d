"""``Module`` and ``Parameter``: how a network keeps track of its weights.

A ``Parameter`` is a leaf Tensor that requires grad. A ``Module`` registers every
Parameter, buffer (state that is saved but not trained, like BatchNorm's running
mean) and sub-module assigned to it as an attribute, so ``parameters()``,
``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` reach the whole tree.
Names follow PyTorch's (``"0.weight"``, ``"encoder.bias"``), so a state dict can be
moved between chainrule and the equivalent ``torch.nn`` model.

>>> import numpy as np
>>> from nn import Module, Parameter
>>> class Scale(Module):
...     def __init__(self):
...         super().__init__()
...         self.factor = Parameter(np.array([2.0]))
...     def forward(self, x):
...         return x * self.factor
>>> m = Scale()
>>> [name for name, _ in m.named_parameters()]
['factor']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

import autograd
from autograd import Tensor


class Parameter(Tensor):
    """A trainable leaf tensor: ``requires_grad=True`` unless said otherwise.

    >>> Parameter([1.0, 2.0]).requires_grad
    True
    """

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of all layers and models: subclasses define ``forward``.

    Calling a module runs ``forward`` inside an ``autograd.scope`` named after the
    module, so graph drawings can draw one box per layer call.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        self._set_label(type(self).__name__)

    # ---- registration: attributes are also recorded by kind, in assignment order ----

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call Module.__init__() in {type(self).__name__}.__init__ first")
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
            if value.name is None:
                value.name = name
        elif isinstance(value, Module):
            self._modules[name] = value
            value._set_label(f"{name}: {type(value).__name__}")
        elif name in self.__dict__.get("_buffer_names", ()):
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def _set_label(self, label: str) -> None:
        """The name of this module's box in graph drawings (its scope, made once, reused)."""
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_scope", autograd.scope(label))

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None) -> None:
        """Keep ``tensor`` in the state dict without training it (e.g. running statistics)."""
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        setattr(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    # ---- calling ---------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._scope:
            return self.forward(*args, **kwargs)

    # ---- walking the tree (iteratively) ------------------------------------------------

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, with dotted names."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = list(module._modules.items())
            for child_name, child in reversed(children):
                if child is not None:
                    stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs with PyTorch's dotted names; shared ones once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    # ---- modes and gradients -------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics, dropout off); returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients (before the next backward pass)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = Tensor(np.zeros_like(param.data))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # ---- state -----------------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of all parameters and buffers as numpy arrays, keyed as in PyTorch."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for module_name, module in self.named_modules():
            entries = list(module._parameters.items()) + list(module._buffers.items())
            for name, value in entries:
                if value is not None:
                    key = f"{module_name}.{name}" if module_name else name
                    state[key] = np.array(np.asarray(value), copy=True)
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy values from ``state`` into this module's parameters and buffers.

        Raises:
            KeyError: naming every missing, unexpected and mis-shaped key (when
                ``strict``; mis-shaped keys always raise).

        Returns:
            ``(missing_keys, unexpected_keys)``.
        """
        targets: dict[str, tuple[Module, str, Any]] = {}
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, value in registry.items():
                    if value is not None:
                        key = f"{module_name}.{name}" if module_name else name
                        targets[key] = (module, name, value)
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        misshaped = [
            f"{k}: expected {np.shape(targets[k][2])}, got {np.shape(state[k])}"
            for k in targets
            if k in state and np.shape(state[k]) != np.shape(targets[k][2])
        ]
        if misshaped or (strict and (missing or unexpected)):
            problems = []
            if missing:
                problems.append(f"missing keys {missing}")
            if unexpected:
                problems.append(f"unexpected keys {unexpected}")
            if misshaped:
                problems.append(f"mis-shaped keys [{'; '.join(misshaped)}]")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + ", ".join(problems))
        with autograd.no_grad():
            for key, (module, name, value) in targets.items():
                if key not in state:
                    continue
                new = np.asarray(state[key])
                if isinstance(value, Tensor):
                    value.copy_(new.astype(value.dtype, copy=False))
                else:
                    setattr(module, name, np.array(new, dtype=np.asarray(value).dtype))
        return missing, unexpected

    # ---- printing ------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        # Built iteratively: one line per module, indented by depth.
        lines: list[str] = []
        stack: list[tuple[int, str | None, Module | str]] = [(0, None, self)]
        while stack:
            depth, name, item = stack.pop()
            pad = "  " * depth
            if isinstance(item, str):  # a closing parenthesis
                lines.append(pad + item)
                continue
            head = f"({name}): " if name is not None else ""
            children = list(item.named_children())
            if not children:
                lines.append(f"{pad}{head}{type(item).__name__}({item.extra_repr()})")
                continue
            lines.append(f"{pad}{head}{type(item).__name__}(")
            if item.extra_repr():
                lines.append(f"{pad}  {item.extra_repr()}")
            stack.append((depth, None, ")"))
            for child_name, child in reversed(children):
                stack.append((depth + 1, child_name, child))
        return "\n".join(lines)
