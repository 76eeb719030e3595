"""The docstring examples of the NumPy-style, linalg, fft and einops op modules run as written."""
import doctest
import importlib

import numpy as np
import pytest

from nnforge import ops


@pytest.mark.parametrize("module", ["numpy_math", "numpy_stats", "numpy_array", "linalg", "fft",
                                    "einops", "_dtypes"])
def test_docstring_examples(module):
    mod = importlib.import_module("nnforge.ops." + module)
    result = doctest.testmod(mod, extraglobs={"ops": ops, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0 and result.failed == 0
