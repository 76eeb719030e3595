"""``Lambda`` (a Python function as a layer) and ``Identity``.

A Lambda holding a Python ``lambda`` serializes its bytecode as Keras 3 does
(``{"class_name": "__lambda__", "config": {"code", "defaults", "closure"}}``); rebuilding one
runs code from the file, so it is refused unless ``safe_mode=False`` is passed to
``load_model`` / ``deserialize_keras_object`` (or ``SafeModeScope(False)`` is active)."""
from __future__ import annotations

import binascii
import codecs
import inspect
import marshal
import types

from nnforge import activations, ops
from nnforge.core.tensor import Tensor
from nnforge.saving.serialization import (deserialize_keras_object, in_safe_mode,
                                          serialize_keras_object)

from .layer import Layer
from .node import map_structure

_LAMBDA_REFUSED = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization().")


def func_dump(fn):
    """(base64 bytecode, defaults, closure values) of a Python function (Keras's format)."""
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def _cell(value):
    def f():
        return value
    return f.__closure__[0]


def func_load(code, defaults=None, closure=None, globs=None):
    """The function ``func_dump`` wrote (its globals: the builtins, nnforge's ``ops``, plus
    ``globs``)."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    if closure is not None:
        closure = tuple(_cell(v) for v in closure)
    try:
        raw = codecs.decode(code.encode("ascii"), "base64")
    except (UnicodeEncodeError, binascii.Error):
        raw = code.encode("raw_unicode_escape")
    code = marshal.loads(raw)
    g = {"__builtins__": __builtins__, "ops": ops}
    if globs:
        g.update(globs)
    return types.FunctionType(code, g, name=code.co_name, argdefs=defaults, closure=closure)


class Lambda(Layer):
    """Wraps an arbitrary expression as a layer (``keras.layers.Lambda``).

    Args:
        function: the function to evaluate; takes the input tensor (or list) first.
        output_shape: the output shape without the batch dimension (a tuple), or a function of
            the full input shape; None infers it by running ``function`` once.
        mask: None, a function ``mask(inputs, previous_mask)``, or a fixed mask.
        arguments: a dict of keyword arguments passed to ``function``.

    Saving: a named function (``def``) is saved by its registered name (register it with
    ``register_keras_serializable`` or pass it in ``custom_objects`` to load); a Python
    ``lambda`` is saved as bytecode and loads only with ``safe_mode=False``.

    Example:

    >>> Lambda(lambda x: x ** 2)(np.array([[2.0]], "float32")).numpy()
    array([[4.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda '{self.name}': function must be callable, got "
                            f"{function!r}")
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        try:
            args = inspect.getfullargspec(function).args
        except TypeError:
            args = []
        self._fn_expects_training_arg = "training" in args
        self._fn_expects_mask_arg = "mask" in args
        self.built = True

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                return super().compute_output_shape(input_shape)
            except Exception as e:
                raise NotImplementedError(
                    "We could not automatically infer the shape of the Lambda's output. Please "
                    "specify the `output_shape` argument for this Lambda layer.") from e
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch = first[0] if first else None
        shape = self._output_shape
        if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
            return [(batch,) + tuple(s) for s in shape]
        return (batch,) + tuple(shape)

    def _serialize_function(self, fn):
        if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
            code, defaults, closure = func_dump(fn)
            return {"class_name": "__lambda__",
                    "config": {"code": code, "defaults": defaults, "closure": closure}}
        if callable(fn):
            return serialize_keras_object(fn)
        raise ValueError(f"Invalid input type for serialization. Received: {fn} of type "
                         f"{type(fn)}.")

    def get_config(self) -> dict:
        config = super().get_config()
        config["function"] = self._serialize_function(self.function)
        if self._output_shape is not None:
            config["output_shape"] = (self._serialize_function(self._output_shape)
                                      if callable(self._output_shape)
                                      else self._output_shape)
        if self.mask is not None:
            config["mask"] = (self._serialize_function(self.mask) if callable(self.mask)
                              else serialize_keras_object(_plain(self.mask)))
        config["arguments"] = serialize_keras_object(self.arguments)
        return config

    @classmethod
    def _load_function(cls, fn_config, safe_mode: bool, custom_objects=None):
        if isinstance(fn_config, dict) and fn_config.get("class_name") == "__lambda__":
            if safe_mode:
                raise ValueError(_LAMBDA_REFUSED)
            inner = fn_config["config"]
            return func_load(inner["code"], defaults=inner["defaults"],
                             closure=inner["closure"])
        if isinstance(fn_config, str):
            from nnforge.saving.object_registration import get_registered_object
            fn = get_registered_object(fn_config, custom_objects)
            if fn is None:
                for mod in (ops, activations):
                    fn = getattr(mod, fn_config, None)
                    if callable(fn):
                        break
            if fn is None:
                raise ValueError(f"Lambda: could not find the function '{fn_config}'. Register "
                                 "it with @keras.saving.register_keras_serializable() or pass "
                                 "it in custom_objects.")
            return fn
        return deserialize_keras_object(fn_config, custom_objects=custom_objects)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode=None):
        config = dict(config)
        safe = (safe_mode if safe_mode is not None else in_safe_mode()) is not False
        config["function"] = cls._load_function(config["function"], safe, custom_objects)
        if "output_shape" in config and config["output_shape"] is not None:
            oc = config["output_shape"]
            if isinstance(oc, dict) or isinstance(oc, str):
                config["output_shape"] = cls._load_function(oc, safe, custom_objects)
            elif isinstance(oc, list) and all(isinstance(e, (int, type(None))) for e in oc):
                config["output_shape"] = tuple(oc)
        if isinstance(config.get("mask"), dict) and \
                config["mask"].get("class_name") == "__lambda__":
            config["mask"] = cls._load_function(config["mask"], safe, custom_objects)
        args = config.get("arguments")
        if isinstance(args, dict) and "class_name" not in args:
            config["arguments"] = {k: deserialize_keras_object(v, custom_objects=custom_objects)
                                   for k, v in args.items()}
        elif args is not None:
            config["arguments"] = deserialize_keras_object(args, custom_objects=custom_objects)
        return super().from_config(config)


def _plain(value):
    return map_structure(lambda t: t.numpy().tolist() if isinstance(t, Tensor) else t, value)


class Identity(Layer):
    """Returns its input unchanged (``keras.layers.Identity``); masks pass through.

    Example:

    >>> Identity()(np.ones((2, 3), "float32")).shape
    (2, 3)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

