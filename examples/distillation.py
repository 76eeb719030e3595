"""Knowledge distillation (keras.io example "Knowledge Distillation", the recipe whose
``Distiller`` overrides ``compile``, ``train_step`` and ``test_step``), run with nnforge: only
the imports differ (``nnforge`` for ``keras``, ``keras.GradientTape`` and ``keras.ops`` for
TensorFlow's tape and ``tf.nn.softmax``). The teacher is narrowed and the data cut so that it
runs in a minute on a CPU; pass ``--full`` for the example's sizes.

Usage:
    python examples/distillation.py [--full] [--epochs 3] [--seed 0]
"""
import argparse

import numpy as np

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
        """Configure the distiller.

        Args:
            optimizer: Keras optimizer for the student weights
            metrics: Keras metrics for evaluation
            student_loss_fn: Loss function of difference between student
                predictions and ground-truth
            distillation_loss_fn: Loss function of difference between soft
                student predictions and soft teacher predictions
            alpha: weight to student_loss_fn and 1-alpha to distillation_loss_fn
            temperature: Temperature for softening probability distributions.
                Larger temperature gives softer distributions.
        """
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def train_step(self, data):
        # Unpack data
        x, y = data

        # Forward pass of teacher
        teacher_predictions = self.teacher(x, training=False)

        with keras.GradientTape() as tape:
            # Forward pass of student
            student_predictions = self.student(x, training=True)

            # Compute losses
            student_loss = self.student_loss_fn(y, student_predictions)

            # Compute scaled distillation loss from https://arxiv.org/abs/1503.02531
            # The magnitudes of the gradients produced by the soft targets scale
            # as 1/T^2, multiply them by T^2 when using both hard and soft targets.
            distillation_loss = (
                self.distillation_loss_fn(
                    ops.softmax(teacher_predictions / self.temperature, axis=1),
                    ops.softmax(student_predictions / self.temperature, axis=1),
                )
                * self.temperature**2
            )

            loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss

        # Compute gradients
        trainable_vars = self.student.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))

        # Update the metrics configured in `compile()`.
        self.compiled_metrics.update_state(y, student_predictions)

        # Return a dict of performance
        results = {m.name: m.result() for m in self.metrics}
        results.update(
            {"student_loss": student_loss, "distillation_loss": distillation_loss}
        )
        return results

    def test_step(self, data):
        # Unpack the data
        x, y = data

        # Compute predictions
        y_prediction = self.student(x, training=False)

        # Calculate the loss
        student_loss = self.student_loss_fn(y, y_prediction)

        # Update the metrics.
        self.compiled_metrics.update_state(y, y_prediction)

        # Return a dict of performance
        results = {m.name: m.result() for m in self.metrics}
        results.update({"student_loss": student_loss})
        return results

    def call(self, x):
        return self.student(x)


def make_models(full: bool):
    wide = (256, 512) if full else (32, 64)
    teacher = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(wide[0], (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(wide[1], (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="teacher",
    )
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
    return teacher, student


def load_data(n_train=None, n_test=None):
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = np.reshape(x_train[:n_train].astype("float32") / 255.0, (-1, 28, 28, 1))
    x_test = np.reshape(x_test[:n_test].astype("float32") / 255.0, (-1, 28, 28, 1))
    return (x_train, y_train[:n_train]), (x_test, y_test[:n_test])


def train_as_usual(model, train, test, epochs, verbose):
    """Compiles, fits and evaluates ``model`` on its own (no distillation): how the teacher is
    trained, and the student from scratch it is compared with. Returns the test accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    model.fit(*train, epochs=epochs, verbose=verbose)
    return model.evaluate(*test, verbose=0)[1]


def compile_distiller(distiller):
    """Compiles a distiller with the example's settings: Adam, the student's accuracy, hard-label
    cross-entropy weighted 0.1 against the KL divergence of the soft targets at temperature 10."""
    distiller.compile(
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(),
        alpha=0.1,
        temperature=10,
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the example's sizes (slow)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    teacher, student = make_models(args.full)
    student_scratch = keras.models.clone_model(student)
    n_train, n_test = (None, None) if args.full else (6000, 2000)
    (x_train, y_train), (x_test, y_test) = load_data(n_train, n_test)

    # Train teacher as usual
    teacher_acc = train_as_usual(teacher, (x_train, y_train), (x_test, y_test), args.epochs,
                                 args.verbose)

    # Initialize and compile distiller
    distiller = Distiller(student=student, teacher=teacher)
    compile_distiller(distiller)
    # Distill teacher to student
    history = distiller.fit(x_train, y_train, epochs=args.epochs, verbose=args.verbose)
    student_acc = distiller.evaluate(x_test, y_test, verbose=0, return_dict=True)

    # Train student as done usually (for comparison)
    scratch_acc = train_as_usual(student_scratch, (x_train, y_train), (x_test, y_test),
                                 args.epochs, args.verbose)
    result = {"teacher": teacher_acc,
              "distilled_student": student_acc["sparse_categorical_accuracy"],
              "scratch_student": scratch_acc, "history": history.history}
    print(f"teacher {teacher_acc:.4f}  distilled student "
          f"{result['distilled_student']:.4f}  student from scratch {scratch_acc:.4f}")
    return result


if __name__ == "__main__":
    main()
