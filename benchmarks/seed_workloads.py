"""One seed workload per process, for the end-to-end benchmark (bench_seed.py runs this file in
a subprocess so each run's peak resident memory is its own).

    python seed_workloads.py FRAMEWORK WORKLOAD MNIST_NPZ [N_IMAGES]
FRAMEWORK: nnforge | torch (a plain PyTorch loop, as ../shared/peers/torch_seed_bench.py)
WORKLOAD:  mlp_train (seed MLP, batch 32, one MNIST epoch, then test accuracy)
           mlp_overhead (seed MLP at batch 1: the per-step overhead, microseconds per step)
           cnn_train (seed CNN, batch 32, 10,000 CIFAR-shaped random images)
           cnn_predict (seed CNN, batch 256, 10,000 images)
N_IMAGES:  how many CIFAR-shaped images the CNN workloads use (default 10,000)
Prints one JSON line: {"samples_per_s": ..., "accuracy": ...} (or {"us_per_step": ...}).
"""
import json
import sys
import time

import numpy as np


def nnforge_cifar_shaped(n: int = 10000):
    """nnforge's CNN data: CIFAR-shaped random images (uint8 scaled to [0, 1]), one-hot labels."""
    import nnforge as keras
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8).astype("float32") / 255
    return x, keras.utils.to_categorical(rng.integers(0, 10, n), 10)


def nnforge_seed_mlp():
    """The seed MLP in nnforge, compiled as the seed program compiles it."""
    import nnforge as keras
    from nnforge import layers
    m = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                          layers.Dense(128, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def nnforge_seed_cnn():
    """The seed CNN in nnforge, compiled as the seed program compiles it."""
    import nnforge as keras
    from nnforge import layers
    c = keras.Sequential([
        keras.Input((32, 32, 3)), layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    c.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return c


def nnforge_run(workload: str, npz_path: str, n: int = 10000) -> dict:
    import nnforge as keras
    keras.utils.set_random_seed(0)
    if workload == "mlp_overhead":
        # Per-step cost of a training step at batch size 1, where the kernels take a few
        # microseconds: what is left is the framework's own per-step overhead.
        npz = np.load(npz_path)
        x = npz["x_train"][:3000].astype("float32") / 255
        y = keras.utils.to_categorical(npz["y_train"][:3000], 10)
        m = nnforge_seed_mlp()
        m.fit(x[:200], y[:200], epochs=1, batch_size=1, verbose=0)
        t = time.perf_counter()
        m.fit(x, y, epochs=1, batch_size=1, verbose=0)
        return {"us_per_step": (time.perf_counter() - t) / len(x) * 1e6}
    if workload == "mlp_train":
        npz = np.load(npz_path)
        x_train = npz["x_train"].astype("float32") / 255
        x_test = npz["x_test"].astype("float32") / 255
        y_train = keras.utils.to_categorical(npz["y_train"], 10)
        y_test = keras.utils.to_categorical(npz["y_test"], 10)
        m = nnforge_seed_mlp()
        m.fit(x_train[:640], y_train[:640], epochs=1, batch_size=32, verbose=0)  # warm-up
        t = time.perf_counter()
        m.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
        dt = time.perf_counter() - t
        _, acc = m.evaluate(x_test, y_test, verbose=0)
        return {"samples_per_s": 60000 / dt, "accuracy": float(acc)}
    xc, yc = nnforge_cifar_shaped(n)
    c = nnforge_seed_cnn()
    c.fit(xc[:320], yc[:320], epochs=1, batch_size=32, verbose=0)
    if workload == "cnn_train":
        t = time.perf_counter()
        c.fit(xc, yc, epochs=1, batch_size=32, verbose=0)
        return {"samples_per_s": n / (time.perf_counter() - t)}
    c.predict(xc[:512], batch_size=256, verbose=0)
    t = time.perf_counter()
    c.predict(xc, batch_size=256, verbose=0)
    return {"samples_per_s": n / (time.perf_counter() - t)}


def torch_run(workload: str, npz_path: str, n: int = 10000) -> dict:
    import torch
    import torch.nn as nn
    torch.manual_seed(0)

    def train(m, x, y, bs=32, n=None):
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        lossf = nn.CrossEntropyLoss()
        n = n or len(x)
        perm = torch.randperm(len(x))[:n]
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = lossf(m(x[idx]), y[idx])
            loss.backward()
            opt.step()

    if workload == "mlp_overhead":
        npz = np.load(npz_path)
        xt = torch.tensor(npz["x_train"][:3000].reshape(-1, 784).astype("float32") / 255)
        yt = torch.tensor(npz["y_train"][:3000].astype("int64"))
        m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        train(m, xt, yt, bs=1, n=200)
        t = time.perf_counter()
        train(m, xt, yt, bs=1)
        return {"us_per_step": (time.perf_counter() - t) / len(xt) * 1e6}
    if workload == "mlp_train":
        npz = np.load(npz_path)
        xt = torch.tensor(npz["x_train"].reshape(-1, 784).astype("float32") / 255)
        yt = torch.tensor(npz["y_train"].astype("int64"))
        xs = torch.tensor(npz["x_test"].reshape(-1, 784).astype("float32") / 255)
        ys = torch.tensor(npz["y_test"].astype("int64"))
        m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        train(m, xt, yt, n=640)
        t = time.perf_counter()
        train(m, xt, yt)
        dt = time.perf_counter() - t
        with torch.no_grad():
            acc = (m(xs).argmax(1) == ys).float().mean().item()
        return {"samples_per_s": 60000 / dt, "accuracy": acc}
    g = torch.Generator().manual_seed(0)
    xc = torch.randint(0, 256, (n, 3, 32, 32), generator=g).float() / 255
    yc = torch.randint(0, 10, (n,), generator=g)
    c = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                      nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2304, 10))
    train(c, xc, yc, n=320)
    if workload == "cnn_train":
        t = time.perf_counter()
        train(c, xc, yc)
        return {"samples_per_s": n / (time.perf_counter() - t)}
    with torch.no_grad():
        c(xc[:512])
        t = time.perf_counter()
        for i in range(0, n, 256):
            c(xc[i:i + 256])
        return {"samples_per_s": n / (time.perf_counter() - t)}


if __name__ == "__main__":
    framework, workload, npz_path = sys.argv[1:4]
    n_images = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
    if workload not in ("mlp_train", "mlp_overhead", "cnn_train", "cnn_predict"):
        raise SystemExit(f"unknown workload {workload!r}")
    run = {"nnforge": nnforge_run, "torch": torch_run}[framework]
    print(json.dumps(run(workload, npz_path, n_images)))
