"""What the ImageNet classifiers share (``keras.applications.imagenet_utils``): input
preprocessing, decoding of predictions, and the scaffolding every architecture uses (input
shape, classifier top, weights).

nnforge downloads no weights: ``weights`` is None (random initialization) or the path of a
weights file the user has, for instance one Keras 3 wrote with ``model.save_weights`` for the
same architecture. ``weights="imagenet"`` (Keras's default) therefore asks for a file in
``$NNFORGE_DATA_DIR`` named as Keras names its Keras-3-format copy (see ``resolve_weights``).
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Optional, Sequence

import numpy as np

from nnforge import activations, layers, ops
from nnforge.core.tensor import KerasTensor
from nnforge.models import Model

CLASS_INDEX = None
CLASS_INDEX_FILE = "imagenet_class_index.json"

__all__ = ["preprocess_input", "decode_predictions"]


def _data_dir() -> str:
    env = os.environ.get("NNFORGE_DATA_DIR")
    return os.path.abspath(os.path.expanduser(env)) if env else os.path.join(
        os.path.expanduser("~"), ".nnforge", "datasets")


def preprocess_input(x, data_format: Optional[str] = None, mode: str = "caffe"):
    """Preprocesses a batch of images as the ImageNet models expect them
    (``keras.applications.imagenet_utils.preprocess_input``).

    Args:
        x: images, a float or integer array (or Tensor) of 3 or 4 dimensions, RGB, 0-255.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        mode: ``"caffe"`` (RGB -> BGR, minus the ImageNet channel means), ``"tf"`` (scaled to
            [-1, 1]) or ``"torch"`` (scaled to [0, 1], then ImageNet mean / std per channel).

    Returns:
        The preprocessed images (a NumPy array for NumPy input, else a Tensor). A float NumPy
        input is modified in place, as Keras does.

    Example:

    >>> preprocess_input(np.full((1, 2, 2, 3), 127.5, "float32"), mode="tf").max()
    0.0
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    data_format = data_format or "channels_last"
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if isinstance(x, np.ndarray):
        if not issubclass(x.dtype.type, np.floating):
            x = x.astype("float32", copy=False)
        return _preprocess(x, data_format, mode, np)
    return _preprocess(ops.cast(ops.convert_to_tensor(x), "float32"), data_format, mode, None)


def _preprocess(x, data_format: str, mode: str, xp):
    if mode == "tf":
        if xp is np:
            x /= 127.5
            x -= 1.0
            return x
        return x / 127.5 - 1.0
    channel_axis = (0 if len(x.shape) == 3 else 1) if data_format == "channels_first" else -1
    if mode == "torch":
        x = x / 255.0 if xp is None else np.divide(x, 255.0, out=x)
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    else:
        index = [slice(None)] * len(x.shape)
        index[channel_axis] = slice(None, None, -1)
        x = x[tuple(index)] if xp is np else ops.flip(x, axis=channel_axis)
        mean, std = [103.939, 116.779, 123.68], None
    shape = [1] * len(x.shape)
    shape[channel_axis] = 3
    mean_arr = np.asarray(mean, x.dtype if xp is np else "float32").reshape(shape)
    if xp is np:
        x -= mean_arr
        if std is not None:
            x /= np.asarray(std, x.dtype).reshape(shape)
        return x
    x = x - mean_arr
    return x / np.asarray(std, "float32").reshape(shape) if std is not None else x


def decode_predictions(preds, top: int = 5) -> list:
    """Decodes the predictions of an ImageNet model
    (``keras.applications.imagenet_utils.decode_predictions``).

    The class index is read from ``imagenet_class_index.json`` in ``$NNFORGE_DATA_DIR`` (the file
    Keras downloads into ``~/.keras/models``; nnforge downloads nothing).

    Args:
        preds: predictions, shape (samples, 1000).
        top: how many top guesses to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)`` tuples, best first.

    Example:

    >>> decode_predictions(model.predict(images), top=3)[0]  # doctest: +SKIP
    [('n02123045', 'tabby', 0.71), ...]
    """
    global CLASS_INDEX
    preds = ops.convert_to_numpy(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array "
                         f"of shape (samples, 1000)). Received array with shape: {preds.shape}")
    if CLASS_INDEX is None:
        path = os.path.join(_data_dir(), CLASS_INDEX_FILE)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"decode_predictions needs the ImageNet class index {CLASS_INDEX_FILE} in "
                f"{os.path.dirname(path)} (set NNFORGE_DATA_DIR); nnforge downloads nothing. "
                "Keras keeps a copy in ~/.keras/models/.")
        with open(path) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


# ---- scaffolding shared by the architectures ---------------------------------------------------

def obtain_input_shape(input_shape: Optional[Sequence[Optional[int]]], default_size: int,
                       min_size: int, data_format: str, require_flatten: bool,
                       weights=None) -> tuple:
    """The model's input shape: ``input_shape`` validated, or the default (Keras's rules)."""
    if data_format != "channels_last":
        raise ValueError("nnforge's applications are channels_last; got "
                         f"data_format={data_format!r}")
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {input_shape[-1]} input channels.",
                          stacklevel=3)
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}.  Received: "
                             f"input_shape={input_shape}")
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received "
                             f"`input_shape={input_shape}`")
        if ((input_shape[0] is not None and input_shape[0] < min_size)
                or (input_shape[1] is not None and input_shape[1] < min_size)):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    else:
        input_shape = default_shape if require_flatten else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size) -> tuple:
    """Zero padding ((top, bottom), (left, right)) for a strided 'valid' convolution that
    downsamples ``inputs`` as 'same' padding would (Keras's ``correct_pad``)."""
    input_size = inputs.shape[1:3]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if input_size[0] is None else (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights) -> None:
    """Pretrained weights allow only a softmax or no classifier activation (as Keras)."""
    if weights is None:
        return
    act = activations.get(classifier_activation)
    if act not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, with "
                         f"`include_top=True`; Received: classifier_activation={act}")


def check_weights_arg(weights, include_top: bool, classes: int) -> None:
    """Refuses what Keras refuses: weights neither None, 'imagenet' nor an existing file, and
    'imagenet' with a top of other than 1000 classes."""
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike))
                                               and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded.  Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")


def model_input(input_tensor, input_shape) -> KerasTensor:
    """The image input: ``input_tensor`` when it is a KerasTensor, else a new ``Input``."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError("input_tensor must be a KerasTensor (the output of `keras.Input()` or "
                         f"of a layer), got {type(input_tensor).__name__}")
    return input_tensor


def classifier(x, include_top: bool, pooling, classes: int, classifier_activation, weights,
               pool_name: Optional[str] = "avg_pool"):
    """Keras's classifier head: with ``include_top``, global average pooling and a Dense of
    ``classes`` named "predictions"; without, the requested ``pooling`` ("avg_pool" /
    "max_pool", or Keras's automatic names where ``pool_name`` is None)."""
    max_name = pool_name.replace("avg", "max") if pool_name else None
    if include_top:
        x = layers.GlobalAveragePooling2D(name=pool_name)(x)
        validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=pool_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def resolve_weights(weights, file_stem: str, include_top: bool):
    """The weights file to load: a path as given, or for ``'imagenet'`` the Keras-3-format
    ``<file_stem>[_notop].weights.h5`` in ``$NNFORGE_DATA_DIR`` (nnforge downloads nothing)."""
    if weights != "imagenet":
        return weights
    name = f"{file_stem}{'' if include_top else '_notop'}.weights.h5"
    path = os.path.join(_data_dir(), name)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"weights='imagenet': nnforge downloads no weights. Put the ImageNet weights, saved "
            f"by Keras 3 with model.save_weights(), at {path} (or set NNFORGE_DATA_DIR), or pass "
            "weights=<path of a .weights.h5 file>, or weights=None for random initialization.")
    return path


def finish(img_input, input_tensor, x, name: str, weights, file_stem: str,
           include_top: bool) -> Model:
    """The functional model from the (source) inputs to ``x``, with its weights loaded."""
    if input_tensor is not None:
        from nnforge.utils.graph_utils import get_source_inputs
        inputs = get_source_inputs(input_tensor)
    else:
        inputs = img_input
    model = Model(inputs, x, name=name)
    path = resolve_weights(weights, file_stem, include_top)
    if path is not None:
        model.load_weights(path)
    return model


_APP_DOC = """Instantiates the {title} architecture (``keras.applications.{name}``){paper}.

    Args:
        include_top: whether to include the fully-connected classifier at the top.
        weights: ``None`` (random initialization), ``"imagenet"`` (the Keras-3-format ImageNet
            weights file ``{stem}[_notop].weights.h5`` from ``$NNFORGE_DATA_DIR``: nnforge
            downloads nothing) or the path of a weights file, e.g. one Keras 3 saved with
            ``model.save_weights`` for the same architecture.
        input_tensor: optional KerasTensor to use as the image input.
        input_shape: optional (height, width, channels) (channels_last); default
            ({size}, {size}, 3); height and width at least {min_size}.
        pooling: without the top, ``None`` (4-D output), ``"avg"`` or ``"max"`` (global pooling).
        classes: number of classes, with the top and without ``"imagenet"`` weights.
        classifier_activation: activation of the top layer (``None`` for logits).{extra}
        name: the model's name.

    Returns:
        A functional ``Model``; inputs go through ``{module}.preprocess_input`` first.

    Example:

    >>> model = nnforge.applications.{name}(weights=None, input_shape=({size}, {size}, 3))
    >>> model.count_params()  # doctest: +SKIP
    """


def application_doc(name: str, module: str, title: str, stem: str, size: int = 224,
                    min_size: int = 32, paper: str = "", extra: str = "") -> str:
    """The docstring every ImageNet architecture shares, filled in for one of them."""
    return _APP_DOC.format(name=name, module=module, title=title, stem=stem, size=size,
                           min_size=min_size, paper=f" ({paper})" if paper else "",
                           extra=extra)


def preprocess_doc(module: str, mode: str) -> str:
    """The docstring of a module's ``preprocess_input`` for its ``mode``."""
    what = {"caffe": "RGB to BGR, then each channel zero-centred on the ImageNet means",
            "tf": "pixels scaled to [-1, 1]",
            "torch": "pixels scaled to [0, 1], then normalised with the ImageNet mean and std",
            "none": "nothing: the model rescales its input itself; returned unchanged"}[mode]
    return (f"Preprocesses images for ``{module}`` models: {what}.\n\n    Args:\n        x: "
            "images (batch, height, width, 3), RGB, 0-255.\n        data_format: "
            "``\"channels_last\"`` (default).\n\n    Returns:\n        The preprocessed images.\n")


def make_preprocess_input(module: str, mode: str):
    """A module's public ``preprocess_input(x, data_format=None)``: ``preprocess_input`` with
    ``mode`` (``"none"``: the images returned unchanged, the model rescaling them itself), with
    the module's name and docstring.

    Args:
        module: the application module (``"xception"``), for the name and docstring.
        mode: ``"caffe"``, ``"tf"``, ``"torch"`` or ``"none"``.

    Returns:
        The function.

    Example:

    >>> preprocess_input = make_preprocess_input("xception", "tf")   # in xception.py
    >>> preprocess_input.__name__
    'preprocess_input'
    """
    if mode == "none":
        def preprocess(x, data_format=None):
            return x
    else:
        def preprocess(x, data_format=None):
            return preprocess_input(x, data_format=data_format, mode=mode)
    preprocess.__name__ = preprocess.__qualname__ = "preprocess_input"
    preprocess.__module__ = f"nnforge.applications.{module}"
    preprocess.__doc__ = preprocess_doc(module, mode)
    return preprocess


def make_application(build, fn_name: str, module: str, default_name: str, title: str = None,
                     stem: str = None, paper: str = "", size: int = 224, min_size: int = 32,
                     **fixed):
    """A public constructor with Keras's standard signature (include_top, weights, input_tensor,
    input_shape, pooling, classes, classifier_activation, name) calling
    ``build(**fixed, ...)``: one definition for the many depths and widths of a family."""
    def application(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax",
                    name=default_name):
        return build(include_top=include_top, weights=weights, input_tensor=input_tensor,
                     input_shape=input_shape, pooling=pooling, classes=classes,
                     classifier_activation=classifier_activation, name=name, **fixed)

    return name_application(application, fn_name, module, title or fn_name,
                            stem or default_name, size=size, min_size=min_size, paper=paper)


def name_application(fn, fn_name: str, module: str, title: str, stem: str, size: int = 224,
                     min_size: int = 32, paper: str = "", extra: str = ""):
    """Gives a constructor made in a factory its public name, module and docstring."""
    fn.__name__ = fn.__qualname__ = fn_name
    fn.__module__ = f"nnforge.applications.{module}"
    fn.__doc__ = application_doc(fn_name, module, title, stem, size=size, min_size=min_size,
                                 paper=paper, extra=extra)
    return fn
