"""Knowledge distillation: keras.io's ``Distiller`` recipe as a library class."""
from __future__ import annotations

from nnforge import ops
from nnforge.core.tape import GradientTape
from nnforge.models.model import Model


class Distiller(Model):
    """Train ``student`` to match ``teacher``'s softened outputs and the true labels
    (Hinton et al. 2015; the keras.io example "Knowledge Distillation").

    The loss is ``alpha * student_loss_fn(y, student(x)) + (1 - alpha) * T**2 *
    distillation_loss_fn(softmax(teacher(x) / T), softmax(student(x) / T))``. Only the
    student's weights are trained; calling the distiller runs the student.

    Args:
        student: the model to train (outputs logits).
        teacher: the trained model to learn from (outputs logits; not trained).

    Example:

    >>> distiller = Distiller(student=student, teacher=teacher)
    >>> distiller.compile(optimizer=keras.optimizers.Adam(),
    ...                   metrics=[keras.metrics.SparseCategoricalAccuracy()],
    ...                   student_loss_fn=keras.losses.SparseCategoricalCrossentropy(
    ...                       from_logits=True),
    ...                   distillation_loss_fn=keras.losses.KLDivergence(),
    ...                   alpha=0.1, temperature=10)
    >>> distiller.fit(x_train, y_train, epochs=3)
    """

    def __init__(self, student, teacher, **kwargs):
        super().__init__(**kwargs)
        self.teacher = teacher
        self.student = student

    def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn,
                alpha: float = 0.1, temperature: float = 3, **kwargs):
        """Args: optimizer and metrics (of the student), the two loss functions, ``alpha``
        (weight of the student loss) and ``temperature`` (softening of both outputs)."""
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Distiller.compile: alpha must be in [0, 1], got {alpha}")
        if temperature <= 0:
            raise ValueError(f"Distiller.compile: temperature must be > 0, got {temperature}")
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def train_step(self, data):
        x, y = data[0], data[1]
        teacher_predictions = self.teacher(x, training=False)
        with GradientTape() as tape:
            student_predictions = self.student(x, training=True)
            student_loss = self.student_loss_fn(y, student_predictions)
            distillation_loss = self.distillation_loss_fn(
                ops.softmax(teacher_predictions / self.temperature, axis=1),
                ops.softmax(student_predictions / self.temperature, axis=1),
            ) * self.temperature ** 2
            loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss
        trainable_vars = self.student.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.compiled_metrics.update_state(y, student_predictions)
        results = {m.name: m.result() for m in self.metrics}
        results.update({"student_loss": student_loss, "distillation_loss": distillation_loss})
        return results

    def test_step(self, data):
        x, y = data[0], data[1]
        y_prediction = self.student(x, training=False)
        student_loss = self.student_loss_fn(y, y_prediction)
        self.compiled_metrics.update_state(y, y_prediction)
        results = {m.name: m.result() for m in self.metrics}
        results.update({"student_loss": student_loss})
        return results

    def call(self, x):
        return self.student(x)
