"""int8 inference benchmark: ``model.quantize("int8")`` against float32 (nnforge) and against
PyTorch's dynamic int8 (``torch.ao.quantization.quantize_dynamic``) on the seed MLP.

    python benchmarks/bench_quantize.py [--rounds 5] [--n 40960]
        [--peers-python /tmp/peers/bin/python]

Workloads (predict at batch 256, samples per second): nnforge and PyTorch run alternately, twice
each (nnforge in this process, PyTorch in a subprocess), each run ``--rounds`` rounds in which
the variants of a model take turns; a figure is the median of both runs' rounds.
- seed MLP (Flatten, Dense 128 relu, Dense 10 softmax) on MNIST test digits: nnforge float32,
  nnforge int8 (dynamic per-row scales), nnforge int8 static (calibration_data), and PyTorch's
  dynamic int8 of the same network (same weights) in the peers venv, in a subprocess;
- seed CNN (benchmarks/seed_workloads.py) on CIFAR-shaped random images: float32 vs int8.
Goals (issue #12): int8 seed CNN >= 1.8x our float32; our int8 MLP >= 1.5x torch dynamic int8.
Prints one JSON line per measurement and a summary with the ratios.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BATCH = 256


def timed_interleaved(fns: dict, x, rounds: int) -> dict:
    """Samples/s of each ``fn(x)`` in each of ``rounds`` rounds (a list per name), after one
    warm-up run each; every round runs every function once, in turn, so a slow spell of the
    shared machine falls on all of them alike. The caller takes medians (a best-of would
    reward the one lucky run of a short workload)."""
    for fn in fns.values():
        fn(x)
    rates = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn(x)
            rates[name].append(len(x) / (time.perf_counter() - t))
    return rates


def nnforge_results(rounds: int, n: int, weights_path: str, train: bool) -> dict:
    """nnforge's rates (lists of samples/s per workload). ``train``: train the seed MLP briefly
    and save its weights (and the first batch) for the PyTorch worker; else load them."""
    sys.path.insert(0, str(HERE))
    import nnforge as keras
    from seed_workloads import nnforge_cifar_shaped, nnforge_seed_cnn, nnforge_seed_mlp
    warnings.simplefilter("ignore")  # Flatten/pooling have nothing to quantize
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, _) = keras.datasets.mnist.load_data()
    x = np.resize(x_test.astype("float32") / 255, (n, 28, 28))
    mlp = nnforge_seed_mlp()
    if train:
        mlp.fit(x_train[:6000].astype("float32") / 255,
                keras.utils.to_categorical(y_train[:6000], 10), epochs=1, batch_size=64,
                verbose=0)
        np.savez(weights_path, *mlp.get_weights(), x=x[:BATCH])
    else:
        saved = np.load(weights_path)
        mlp.set_weights([saved[f"arr_{i}"] for i in range(4)])
    out = {}

    def predict(m):
        return lambda data: m.predict(data, batch_size=BATCH, verbose=0)
    def quantized(build, float_model, calibration_data=None):
        """A copy of ``float_model`` quantized to int8 (static when calibration data is given)."""
        m = build()
        m.set_weights(float_model.get_weights())
        m.quantize("int8", calibration_data=calibration_data)
        return m

    xc, _ = nnforge_cifar_shaped(max(n // 4, BATCH))
    cnn = nnforge_seed_cnn()
    for name, build, model, data, calibration in (
            ("mlp", nnforge_seed_mlp, mlp, x, x_train[:2000].astype("float32") / 255),
            ("cnn", nnforge_seed_cnn, cnn, xc, xc[:512])):
        int8 = quantized(build, model)
        static = quantized(build, model, calibration)
        out.update(timed_interleaved({f"{name}_float32": predict(model),
                                      f"{name}_int8": predict(int8),
                                      f"{name}_int8_static": predict(static)}, data, rounds))
        if name == "mlp":  # compared with PyTorch's int8 predictions of the same network
            out["mlp_int8_predictions_b256"] = int8.predict(x[:BATCH], verbose=0).tolist()
    return out


TORCH_WORKER = r"""
import json, sys, time
import numpy as np, torch
from torch import nn
npz = np.load(sys.argv[1]); rounds = int(sys.argv[2]); n = int(sys.argv[3])
k0, b0, k1, b1 = (npz[f"arr_{i}"] for i in range(4))
m = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10),
                  nn.Softmax(dim=1))
with torch.no_grad():
    m[1].weight.copy_(torch.from_numpy(k0.T)); m[1].bias.copy_(torch.from_numpy(b0))
    m[3].weight.copy_(torch.from_numpy(k1.T)); m[3].bias.copy_(torch.from_numpy(b1))
m.eval()
q = torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)
x = torch.from_numpy(np.resize(npz["x"], (n, 28, 28)).astype("float32"))
def run(model):
    with torch.no_grad():
        return torch.cat([model(x[i:i + 256]) for i in range(0, n, 256)])
models = {"torch_mlp_float32": m, "torch_mlp_int8_dynamic": q}
rates = {k: [] for k in models}
for model in models.values():
    run(model)
for _ in range(rounds):  # interleaved, as the nnforge side
    for k, model in models.items():
        t = time.perf_counter(); run(model); rates[k].append(n / (time.perf_counter() - t))
with torch.no_grad():
    first = q(torch.from_numpy(npz["x"])).numpy().tolist()
print(json.dumps({**rates, "threads": torch.get_num_threads(),
                  "torch_int8_predictions_b256": first}))
"""


def torch_results(peers_python: str, weights_path: str, rounds: int, n: int) -> dict:
    if not Path(peers_python).exists():
        return {}
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([peers_python, "-c", TORCH_WORKER, weights_path, str(rounds), str(n)],
                       capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        print("torch worker failed:", r.stderr[-2000:], file=sys.stderr)
        return {}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per run (two runs)")
    parser.add_argument("--n", type=int, default=40960, help="images per MLP run (CNN: n/4)")
    parser.add_argument("--peers-python", default="/tmp/peers/bin/python")
    args = parser.parse_args()
    # Two alternating runs of each program (nnforge, PyTorch, nnforge, PyTorch), their rounds
    # pooled per workload: a slower spell of the machine during one program's run does not
    # decide the ratio.
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "mlp.npz")
        runs, peer_runs = [], []
        for i in range(2):
            runs.append(nnforge_results(args.rounds, args.n, weights, train=i == 0))
            peer_runs.append(torch_results(args.peers_python, weights, args.rounds, args.n))
    ours = {k: float(np.median(runs[0][k] + runs[1][k])) if isinstance(v, list) and
            k != "mlp_int8_predictions_b256" else v for k, v in runs[0].items()}
    peer = {}
    if all(peer_runs):
        peer = {k: float(np.median(peer_runs[0][k] + peer_runs[1][k]))
                if isinstance(v, list) and k != "torch_int8_predictions_b256" else v
                for k, v in peer_runs[0].items()}
    ours_pred = np.array(ours.pop("mlp_int8_predictions_b256"))
    results = {**ours, **{k: v for k, v in peer.items() if k != "torch_int8_predictions_b256"}}
    for k, v in results.items():
        print(json.dumps({"workload": k, "samples_per_s": v} if k != "threads" else
                         {"torch_threads": v}))
    summary = {"cnn_int8_vs_float32": ours["cnn_int8"] / ours["cnn_float32"],
               "cnn_int8_static_vs_float32": ours["cnn_int8_static"] / ours["cnn_float32"],
               "mlp_int8_vs_float32": ours["mlp_int8"] / ours["mlp_float32"],
               "mlp_int8_static_vs_float32": ours["mlp_int8_static"] / ours["mlp_float32"]}
    if peer:
        torch_pred = np.array(peer["torch_int8_predictions_b256"])
        summary["mlp_int8_vs_torch_dynamic_int8"] = \
            ours["mlp_int8"] / peer["torch_mlp_int8_dynamic"]
        summary["mlp_int8_static_vs_torch_dynamic_int8"] = \
            ours["mlp_int8_static"] / peer["torch_mlp_int8_dynamic"]
        # same network, same weights: the two int8 versions agree on the predicted class
        summary["mlp_int8_argmax_agreement_with_torch"] = float(
            (ours_pred.argmax(1) == torch_pred.argmax(1)).mean())
    print(json.dumps({"summary": summary,
                      "goals": {"cnn_int8_vs_float32": 1.8,
                                "mlp_int8_vs_torch_dynamic_int8": 1.5}}))
    return summary


if __name__ == "__main__":
    main()
