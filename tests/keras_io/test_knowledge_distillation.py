"""keras.io example "Knowledge Distillation" (keras-io examples/vision/knowledge_distillation.py,
Keras 3 edition), with ``import keras`` changed to nnforge. The Distiller overrides
``compute_loss`` (without a ``training`` argument, as the example does) and keeps the built-in
train/test steps. Trained on 1,536 MNIST digits for 2 epochs, with a teacher narrowed to
32/64 filters (256/512 in the example) so that it trains in seconds on a CPU."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops


class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(
        self,
        optimizer,
        metrics,
        student_loss_fn,
        distillation_loss_fn,
        alpha=0.1,
        temperature=3,
    ):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False
    ):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)

        distillation_loss = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)

        loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss
        return loss

    def call(self, x):
        return self.student(x)


@pytest.mark.slow
def test_distiller_trains_the_student_from_the_teacher():
    keras.utils.set_random_seed(0)
    # Create the teacher
    teacher = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="teacher",
    )

    # Create the student
    student = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="student",
    )

    # Clone student for later comparison
    student_scratch = keras.models.clone_model(student)

    # Prepare the train and test dataset.
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, y_train = x_train[:1536], y_train[:1536]
    x_test, y_test = x_test[:256], y_test[:256]

    # Normalize data
    x_train = x_train.astype("float32") / 255.0
    x_train = np.reshape(x_train, (-1, 28, 28, 1))

    x_test = x_test.astype("float32") / 255.0
    x_test = np.reshape(x_test, (-1, 28, 28, 1))

    # Train teacher as usual
    teacher.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    # Train and evaluate teacher on data.
    teacher.fit(x_train, y_train, epochs=2, verbose=0)
    _, teacher_acc = teacher.evaluate(x_test, y_test, verbose=0)
    assert teacher_acc > 0.7

    # Initialize and compile distiller
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(),
        alpha=0.1,
        temperature=10,
    )

    # Distill teacher to student
    h = distiller.fit(x_train, y_train, epochs=2, verbose=0).history
    assert set(h) == {"loss", "sparse_categorical_accuracy"}
    assert h["loss"][-1] < h["loss"][0]

    # Evaluate student on test dataset
    loss, acc = distiller.evaluate(x_test, y_test, verbose=0)
    assert acc > 0.7
    # the evaluated loss is the distillation objective, computed by the overridden
    # compute_loss (not the student's plain cross-entropy)
    t = ops.softmax(teacher.predict(x_test, verbose=0) / 10.0, axis=1).numpy()
    logits = student.predict(x_test, verbose=0)
    s = ops.softmax(logits / 10.0, axis=1).numpy()
    kl = np.sum(t * np.log(np.clip(t, 1e-7, 1) / np.clip(s, 1e-7, 1)), axis=1) * 100
    z = logits - logits.max(axis=1, keepdims=True)
    ce = -(z[np.arange(256), y_test] - np.log(np.exp(z).sum(axis=1)))
    batches = [slice(i, i + 32) for i in range(0, 256, 32)]
    expect = np.mean([0.1 * ce[b].mean() + 0.9 * kl[b].mean() for b in batches])
    np.testing.assert_allclose(loss, expect, rtol=2e-3)

    # Train student as done usually
    student_scratch.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    # Train and evaluate student trained from scratch.
    student_scratch.fit(x_train, y_train, epochs=2, verbose=0)
    _, scratch_acc = student_scratch.evaluate(x_test, y_test, verbose=0)
    assert scratch_acc > 0.7
