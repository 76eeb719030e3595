"""Distillation: examples/distillation.py's Distiller (the keras.io recipe overriding
compile/train_step/test_step, imports changed only) and nnforge.compression.Distiller train
the student from the teacher on MNIST digits."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import nnforge as keras
from nnforge import compression

ROOT = Path(__file__).resolve().parents[2]


def load_example():
    spec = importlib.util.spec_from_file_location("distillation_example",
                                                  ROOT / "examples" / "distillation.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def trained_teacher():
    ex = load_example()
    keras.utils.set_random_seed(0)
    teacher, _ = ex.make_models(full=False)
    (x, y), (xt, yt) = ex.load_data(1536, 512)
    ex.train_as_usual(teacher, (x, y), (xt, yt), epochs=2, verbose=0)
    return ex, teacher, (x, y), (xt, yt)


@pytest.mark.parametrize("which", ["example", "library"])
def test_distiller_trains_student_only(trained_teacher, which):
    ex, teacher, (x, y), (xt, yt) = trained_teacher
    keras.utils.set_random_seed(1)
    _, student = ex.make_models(full=False)
    cls = ex.Distiller if which == "example" else compression.Distiller
    distiller = cls(student=student, teacher=teacher)
    ex.compile_distiller(distiller)  # alpha 0.1, temperature 10
    teacher_before = [w.copy() for w in teacher.get_weights()]
    student_before = [w.copy() for w in student.get_weights()]
    h = distiller.fit(x, y, epochs=2, verbose=0).history
    assert {"sparse_categorical_accuracy", "student_loss", "distillation_loss"} <= set(h)
    assert h["distillation_loss"][-1] < h["distillation_loss"][0]
    assert h["student_loss"][-1] < h["student_loss"][0]
    for a, b in zip(teacher_before, teacher.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(student_before, student.get_weights()))
    logs = distiller.evaluate(xt, yt, verbose=0, return_dict=True)
    assert set(logs) >= {"sparse_categorical_accuracy", "student_loss"}
    assert logs["sparse_categorical_accuracy"] > 0.7
    # the test step's accuracy is the student's
    pred = student.predict(xt, verbose=0).argmax(1)
    assert logs["sparse_categorical_accuracy"] == pytest.approx((pred == yt).mean(), abs=1e-6)
    np.testing.assert_array_equal(distiller.predict(xt[:8], verbose=0),
                                  student.predict(xt[:8], verbose=0))


def test_distiller_compile_errors():
    ex = load_example()
    teacher, student = ex.make_models(full=False)
    d = compression.Distiller(student=student, teacher=teacher)
    with pytest.raises(ValueError, match="alpha"):
        d.compile(optimizer="adam", metrics=[], student_loss_fn=None,
                  distillation_loss_fn=None, alpha=1.5)
    with pytest.raises(ValueError, match="temperature"):
        d.compile(optimizer="adam", metrics=[], student_loss_fn=None,
                  distillation_loss_fn=None, temperature=0)
