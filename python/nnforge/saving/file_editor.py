"""``KerasFileEditor``: inspect, edit and resave the weights of ``.keras`` / ``.weights.h5``
files (Keras 3's ``keras.saving.KerasFileEditor``)."""
from __future__ import annotations

import io
import json
import math
import os
import pprint
import zipfile
from collections import OrderedDict

import numpy as np

from nnforge.utils.io_utils import print_msg

_MAX_BYTES = 1 << 32  # one dataset larger than 4 GiB is refused, as in Keras


def _h5py():
    from .weights_file import _h5py as get
    return get()


class KerasFileEditor:
    """Inspect, edit and resave a weights file (``keras.saving.KerasFileEditor``), e.g. to adapt
    saved weights after changing a model's architecture.

    The weights are held as nested dicts that mirror the file's groups (each object's ``vars``
    group is folded into the object's dict): ``editor.weights_dict["layers"]["dense"]["0"]``.
    Objects are named by name (when unique) or by path (``"layers/dense_1"``).

    Args:
        filepath: a ``.keras`` or ``.weights.h5`` file.

    Example:

    >>> editor = KerasFileEditor("my_model.weights.h5")
    >>> editor.summary()
    >>> editor.delete_object("layers/dense_2")
    >>> editor.add_object("layers/einsum_dense", weights={"0": kernel, "1": bias})
    >>> editor.resave_weights("edited_model.weights.h5")
    """

    def __init__(self, filepath):
        self.filepath = os.fspath(filepath)
        self.metadata = None
        self.config = None
        self.model = None
        h5py = _h5py()
        if self.filepath.endswith(".keras"):
            with zipfile.ZipFile(self.filepath, "r") as zf:
                names = set(zf.namelist())
                if "model.weights.h5" not in names:
                    raise ValueError(f"KerasFileEditor: {self.filepath!r} has no "
                                     "model.weights.h5")
                weights = zf.read("model.weights.h5")
                if "config.json" in names:
                    self.config = json.loads(zf.read("config.json"))
                if "metadata.json" in names:
                    self.metadata = json.loads(zf.read("metadata.json"))
            h5 = h5py.File(io.BytesIO(weights), "r")
        elif self.filepath.endswith(".weights.h5"):
            h5 = h5py.File(self.filepath, "r")
        else:
            raise ValueError("KerasFileEditor: invalid filename: expected a `.keras` "
                             f"`.weights.h5` extension. Received: filepath={self.filepath}")
        with h5:
            self.weights_dict, self.object_metadata = self._extract(h5)
        print_msg(f"Keras model file '{self.filepath}'")
        if self.metadata is not None:
            print_msg(f"Saved with Keras {self.metadata.get('keras_version')} - date: "
                      f"{self.metadata.get('date_saved')}")

    # -- reading -------------------------------------------------------------------------------
    def _extract(self, group, metadata=None, inner_path=""):
        h5py = _h5py()
        metadata = {} if metadata is None else metadata
        attrs = {k: v for k, v in group.attrs.items()}
        if attrs:
            metadata[inner_path] = attrs
        result = OrderedDict()
        for key in group.keys():
            path = f"{inner_path}/{key}"
            link = group.get(key, default=None, getclass=True, getlink=True)
            if link in (h5py.ExternalLink, h5py.SoftLink):
                raise ValueError(f"KerasFileEditor: not allowed: H5 file with {link.__name__}")
            value = group[key]
            if isinstance(value, h5py.Group):
                if key == "vars":  # this object's own weights: folded into its dict
                    own, metadata = self._extract(value, metadata, inner_path)
                    result.update(own)
                    continue
                sub, metadata = self._extract(value, metadata, path)
                if sub:  # empty objects are left out, as Keras does
                    result[key] = sub
                continue
            if not isinstance(value, h5py.Dataset):
                continue
            if value.external:
                raise ValueError("KerasFileEditor: not allowed: H5 file Dataset with external "
                                 f"links: {value.external}")
            if value.is_virtual:
                raise ValueError(f"KerasFileEditor: not allowed: virtual Dataset at {path}")
            shape = value.shape
            if any(d < 0 for d in shape) or len(shape) > 64:
                raise ValueError(f"KerasFileEditor: malformed dataset shape {shape} at {path}")
            size = math.prod(shape) * value.dtype.itemsize
            if size > _MAX_BYTES:
                raise ValueError(f"KerasFileEditor: dataset {path} too large to load safely "
                                 f"({size} bytes; limit is {_MAX_BYTES}).")
            result[key] = value[()]
        return result, metadata

    # -- inspection ----------------------------------------------------------------------------
    def summary(self) -> None:
        """Print the weight structure of the opened file.

        Example:

        >>> editor.summary()
        """
        print_msg("Weights structure")
        self._print_structure(self.weights_dict, prefix="  ")

    def _print_structure(self, d, prefix="", inner_path="", is_first=True):
        items = list(d.items())
        for idx, (key, value) in enumerate(items):
            path = f"{inner_path}/{key}"
            last = idx == len(items) - 1
            if is_first:
                connector, is_first = "> ", False
            else:
                connector = "└─ " if last else "├─ "
            if isinstance(value, dict):
                label = f"{prefix}{connector}{key}"
                name = self.object_metadata.get(path, {}).get("name")
                if name is not None:
                    label += f" ('{name}')"
                print_msg(label)
                self._print_structure(value, prefix + ("    " if last else "│   "), path,
                                      is_first=False)
            else:
                print_msg(f"{prefix}{connector}{key}: shape={value.shape}, dtype={value.dtype}")

    def compare(self, reference_model) -> dict:
        """List the mismatches between the opened file and ``reference_model``'s weights.

        Args:
            reference_model: a built model.

        Returns:
            ``{"status": "success" | "error", "error_count": n, "match_count": m}``.

        Example:

        >>> editor.compare(model)["status"]
        'success'
        """
        print_msg("Running comparison")
        from .weights_file import write_h5
        buf = io.BytesIO()
        # the reference holds what saving the model would write (with its optimizer, if any)
        write_h5(buf, reference_model,
                 include_optimizer=getattr(reference_model, "optimizer", None) is not None)
        buf.seek(0)
        with _h5py().File(buf, "r") as h5:
            ref, _ = self._extract(h5)
        checked = set()

        def cmp(target, spec, inner, target_name, ref_name):
            errors = matches = 0
            for key, val in spec.items():
                path = f"{inner}/{key}"
                if path in checked:
                    continue
                if key not in target:
                    errors += 1
                    checked.add(path)
                    what = "Object" if isinstance(val, dict) else "Weight"
                    print_msg(f"...{what} {path} present in {ref_name}, missing from "
                              f"{target_name}")
                    if isinstance(val, dict):
                        print_msg(f"    In {ref_name}, {path} contains the following keys: "
                                  f"{list(val.keys())}")
                elif isinstance(val, dict):
                    e, m = cmp(target[key], val, path, target_name, ref_name)
                    errors, matches = errors + e, matches + m
                elif target[key].shape != val.shape:
                    errors += 1
                    checked.add(path)
                    print_msg(f"...Weight shape mismatch for {path}\n    In {ref_name}: "
                              f"shape={val.shape}\n    In {target_name}: "
                              f"shape={target[key].shape}")
                else:
                    matches += 1
            return errors, matches

        errors, matches = cmp(self.weights_dict, ref, "", "saved file", "reference model")
        more, _ = cmp(ref, self.weights_dict, "", "reference model", "saved file")
        errors += more
        print_msg("─────────────────────")
        if errors == 0:
            print_msg("Comparison successful: saved file is compatible with the reference model")
            print_msg(f"    Found {matches} matching weight{'' if matches == 1 else 's'}")
            status = "success"
        else:
            print_msg(f"Found {errors} error{'' if errors == 1 else 's'}: saved file is not "
                      "compatible with the reference model")
            status = "error"
        return {"status": status, "error_count": errors, "match_count": matches}

    # -- editing -------------------------------------------------------------------------------
    def _parent_dict(self, elements, shown_path: str) -> dict:
        """The dict of ``weights_dict`` that the path ``elements`` ends in (its last element
        is looked up there); ``shown_path`` is the path an error names."""
        d = self.weights_dict
        for e in elements[:-1]:
            if e not in d:
                raise ValueError(f"KerasFileEditor: path '{shown_path}' not found in model.")
            d = d[e]
        return d

    def _edit_object(self, edit_fn, source_name, target_name=None):
        if target_name is not None and "/" in target_name:
            raise ValueError("KerasFileEditor: argument `target_name` should be a leaf name, "
                             f"not a full path name. Received: target_name='{target_name}'")
        if "/" in source_name:
            elements = source_name.split("/")
            d = self._parent_dict(elements, source_name)
            if elements[-1] not in d:
                raise ValueError(f"KerasFileEditor: path '{source_name}' not found in model.")
            edit_fn(d, source_name=elements[-1], target_name=target_name)
            return

        def count(d):
            n = sum(count(v) for v in d.values() if isinstance(v, dict))
            return n + (1 if source_name in d else 0)
        occurrences = count(self.weights_dict)
        if occurrences > 1:
            raise ValueError(f"KerasFileEditor: name '{source_name}' occurs more than once in "
                             "the model; try passing a complete path")
        if occurrences == 0:
            raise ValueError(f"KerasFileEditor: source name '{source_name}' does not appear in "
                             "the model. Use `editor.summary()` to list all objects.")

        def walk(d):
            for v in list(d.values()):
                if isinstance(v, dict):
                    walk(v)
            if source_name in d:
                edit_fn(d, source_name=source_name, target_name=target_name)
        walk(self.weights_dict)

    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (e.g. a layer's group).

        Args:
            object_name: name or path of the object (``"dense_2"`` or ``"layers/dense_2"``).
            new_name: its new (leaf) name.

        Example:

        >>> editor.rename_object("dense_3", "dense_4")
        """
        def fn(d, source_name, target_name):
            d[target_name] = d.pop(source_name)
        self._edit_object(fn, object_name, new_name)

    def delete_object(self, object_name: str) -> None:
        """Remove an object (e.g. a layer) and its weights.

        Args:
            object_name: name or path of the object.

        Example:

        >>> editor.delete_object("layers/dense_2")
        """
        def fn(d, source_name, target_name=None):
            d.pop(source_name)
        self._edit_object(fn, object_name)

    def add_object(self, object_path: str, weights: dict) -> None:
        """Add an object with its weights.

        Args:
            object_path: the full path of the new object (``"layers/dense_2"``).
            weights: weight name -> array, e.g. ``{"0": kernel, "1": bias}``.

        Example:

        >>> editor.add_object("layers/dense_9", {"0": np.zeros((4, 2)), "1": np.zeros(2)})
        """
        if not isinstance(weights, dict):
            raise ValueError("KerasFileEditor: argument `weights` should be a dict where keys "
                             "are weight names (usually '0', '1', etc.) and values are NumPy "
                             f"arrays. Received: type(weights)={type(weights)}")
        elements = object_path.split("/")
        d = self._parent_dict(elements, "/".join(elements[:-1]))
        d[elements[-1]] = {k: np.asarray(v) for k, v in weights.items()}

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove one weight of an object.

        Args:
            object_name: name or path of the object.
            weight_name: the weight's name (e.g. ``"0"``).

        Example:

        >>> editor.delete_weight("dense_2", "1")
        """
        def fn(d, source_name, target_name=None):
            if weight_name not in d[source_name]:
                raise ValueError(f"KerasFileEditor: weight {weight_name} not found in object "
                                 f"{object_name}. Weights found: {list(d[source_name].keys())}")
            d[source_name].pop(weight_name)
        self._edit_object(fn, object_name)

    def add_weights(self, object_name: str, weights: dict) -> None:
        """Add weights to an existing object.

        Args:
            object_name: name or path of the object.
            weights: weight name -> array.

        Example:

        >>> editor.add_weights("dense_2", {"2": np.ones(3)})
        """
        if not isinstance(weights, dict):
            raise ValueError("KerasFileEditor: argument `weights` should be a dict where keys "
                             "are weight names (usually '0', '1', etc.) and values are NumPy "
                             f"arrays. Received: type(weights)={type(weights)}")

        def fn(d, source_name, target_name=None):
            d[source_name].update({k: np.asarray(v) for k, v in weights.items()})
        self._edit_object(fn, object_name)

    # -- writing -------------------------------------------------------------------------------
    def save(self, filepath) -> None:
        """Write the edited weights to a ``.weights.h5`` file (each object's arrays in its
        ``vars`` group, as Keras writes them).

        Args:
            filepath: a path ending in ``.weights.h5``.

        Example:

        >>> editor.save("edited.weights.h5")
        """
        filepath = os.fspath(filepath)
        if not filepath.endswith(".weights.h5"):
            raise ValueError("KerasFileEditor: invalid `filepath` argument: expected a "
                             f"`.weights.h5` extension. Received: filepath={filepath}")
        h5py = _h5py()

        def write(d, group, inner):
            arrays = {}
            for name, value in d.items():
                if isinstance(value, dict):
                    if value:
                        write(value, group.require_group(name), f"{inner}/{name}")
                else:
                    arrays[name] = value
            if arrays:
                vars_g = group.require_group("vars")
                name = self.object_metadata.get(inner, {}).get("name")
                if name is not None:
                    vars_g.attrs["name"] = name
                for k, v in arrays.items():
                    vars_g.create_dataset(k, data=np.asarray(v))

        from .atomic import atomic_write
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            write(self.weights_dict, f, "")
        with atomic_write(filepath) as out:
            out.write(buf.getvalue())

    def resave_weights(self, filepath) -> None:
        """``save`` under Keras's other name."""
        self.save(filepath)

    def __repr__(self) -> str:
        return f"<KerasFileEditor {self.filepath!r}>\n{pprint.pformat(self.config)[:200]}"
