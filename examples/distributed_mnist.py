"""The MNIST multilayer perceptron (examples/mnist_mlp.py), trained data-parallel on several
processes.

Each process holds the whole model; every global batch of 32 rows is split between the
processes, their gradients are summed, and all processes apply the same update, so N processes
train as one process with the same global batch would. Only process 0 prints.

    pip install ".[distributed]"
    mpiexec -n 2 python examples/distributed_mnist.py [--epochs 5] [--seed 0]

Also runs as a plain single process (``python examples/distributed_mnist.py``).
"""
import nnforge as keras

import example_args
from mnist_mlp import build_model, load_data


def main() -> float:
    args = example_args.parse_args(__doc__, epochs=5, batch_size=32,
                                   batch_help="the global batch size", seed=False)

    # Join the MPI job (a no-op in a single process) and train data-parallel over it.
    keras.distribution.initialize()
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    first = keras.distribution.process_id() == 0

    (x_train, y_train), (x_test, y_test) = load_data()

    # Every process builds the same model; process 0's initial weights are broadcast to the
    # others when training starts.
    model = build_model()
    if first:
        model.summary()
        print(f"Training on {keras.distribution.num_processes()} process(es): "
              f"{keras.distribution.list_devices()}")

    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_split=0.1, verbose=args.verbose)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    if first:
        print(f"Test accuracy: {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main()
