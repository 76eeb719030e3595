"""Writes python/nnforge/layers/keras_op_specs.json: how Keras 3 splits each ``keras.ops``
function's arguments between the Operation's constructor (saved in the layer config) and its
``symbolic_call`` (saved as the node's args/kwargs).

Run with the peers venv (reads Keras's source with ``ast``; imports nothing from it but the
module list):

    /tmp/peers/bin/python tests/golden/make_opser_table.py

Only the plain pattern ``Class(kw=param, ...).symbolic_call(param, kw=param)`` (names of the
function's own parameters or constants) is recorded; other functions are left out, and
nnforge refuses to save those ops with an error naming them.

The JSON holds one op a line: for each keras.ops function, the Operation class Keras makes for
it on symbolic tensors, the function parameters that go to its constructor ("init": config key
-> ["param", name] or ["const", value]) and those passed to symbolic_call (saved as the node's
args). ``nnforge.layers.op_layer`` reads it once, at import."""
import ast
import json
from pathlib import Path

import keras  # noqa: F401  (only to locate the source)

SRC = Path(keras.__file__).parent / "src" / "ops"
MODULES = ["numpy", "math", "nn", "core", "linalg", "image"]
OUT = Path(__file__).resolve().parents[2] / "python" / "nnforge" / "layers" / "keras_op_specs.json"


def exported(fn):
    for d in fn.decorator_list:
        if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "keras_export":
            return True
    return False


def export_names(fn):
    names = {fn.name}
    for d in fn.decorator_list:
        if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "keras_export":
            for a in d.args:
                for c in ast.walk(a):
                    if isinstance(c, ast.Constant) and isinstance(c.value, str):
                        names.add(c.value.rsplit(".", 1)[-1])
    return sorted(names)


def value_of(node, params):
    if isinstance(node, ast.Name) and node.id in params:
        return ("param", node.id)
    if isinstance(node, ast.Constant):
        return ("const", node.value)
    return None


def init_params(classes, name):
    cls = classes.get(name)
    if cls is None:
        return None
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            return [a.arg for a in item.args.args[1:]] + [a.arg for a in item.args.kwonlyargs]
    return []


def main():
    specs = {}
    for mod in MODULES:
        tree = ast.parse((SRC / f"{mod}.py").read_text())
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef) or not exported(fn) or fn.name.startswith("_"):
                continue
            params = [a.arg for a in fn.args.args] + [a.arg for a in fn.args.kwonlyargs]
            calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Attribute) and n.func.attr == "symbolic_call"
                     and isinstance(n.func.value, ast.Call)
                     and isinstance(n.func.value.func, ast.Name)]
            ctors = [n.func.value for n in calls]
            if not calls:  # Class(...)(x): the Operation called directly
                calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)
                         and isinstance(n.func, ast.Call) and isinstance(n.func.func, ast.Name)
                         and n.func.func.id in classes]
                ctors = [n.func for n in calls]
            if len(calls) != 1:
                continue
            call = calls[0]
            ctor = ctors[0]
            cls_name = ctor.func.id
            iparams = init_params(classes, cls_name)
            if iparams is None:
                continue
            init, ok = {}, True
            for i, a in enumerate(ctor.args):
                v = value_of(a, params)
                if v is None or i >= len(iparams):
                    ok = False
                    break
                init[iparams[i]] = v
            for k in ctor.keywords:
                v = value_of(k.value, params)
                if v is None or k.arg is None:
                    ok = False
                    break
                init[k.arg] = v
            pos = []
            for a in call.args:
                v = value_of(a, params)
                if v is None or v[0] != "param":
                    ok = False
                    break
                pos.append(v[1])
            kw = {}
            for k in call.keywords:
                v = value_of(k.value, params)
                if v is None or v[0] != "param" or k.arg is None:
                    ok = False
                    break
                kw[k.arg] = v[1]
            if not ok:
                continue
            defaults = {}
            pos_defaults = fn.args.defaults
            for a, dnode in zip(fn.args.args[len(fn.args.args) - len(pos_defaults):],
                                pos_defaults):
                defaults[a.arg] = dnode
            for a, dnode in zip(fn.args.kwonlyargs, fn.args.kw_defaults):
                if dnode is not None:
                    defaults[a.arg] = dnode
            literal = {}
            for k, dnode in defaults.items():
                try:
                    literal[k] = ast.literal_eval(dnode)
                except ValueError:
                    pass
            spec = {"defaults": literal, "module": f"keras.src.ops.{mod}", "class_name": cls_name,
                              "params": params, "init": init, "call_args": pos,
                              "call_kwargs": kw}
            for name in export_names(fn):
                specs[name] = spec
    rows = [f"{json.dumps(name)}: {json.dumps(spec, sort_keys=True)}"
            for name, spec in sorted(specs.items())]
    text = "{\n" + ",\n".join(rows) + "\n}\n"
    OUT.write_text(text)
    print(f"{len(specs)} ops -> {OUT}")


if __name__ == "__main__":
    main()
