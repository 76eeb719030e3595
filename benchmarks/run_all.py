"""Run every nnforge benchmark and print their tables: sgemm (bench_gemm.py), the seed CNN's
layers (bench_layers.py), the seed programs end to end against the peers (bench_seed.py), the
text LSTM/GRU workloads against the peers and a profile of one LSTM training step (bench_text.py),
the seed CNN beside busy processes against PyTorch (bench_contention.py).

    python benchmarks/run_all.py [--quick] [--peers-python /tmp/peers/bin/python]

NumPy is timed with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (they slow a current OpenBLAS on
this machine; see ../shared and the environment notes). Copy the printed tables into
benchmarks/RESULTS.md with the date, the machine and this command.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    ap.add_argument("--peers-python", default="/tmp/peers/bin/python")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    steps = [
        ("sgemm", [sys.executable, str(HERE / "bench_gemm.py")] + (["--quick"] if args.quick else [])),
        ("layers", [sys.executable, str(HERE / "bench_layers.py")] + (["--quick"] if args.quick else [])),
        # 5 rounds: on a shared host one disturbed round must not decide a median
        ("seed programs", [sys.executable, str(HERE / "bench_seed.py"), "--rounds",
                           "1" if args.quick else "5", "--peers-python", args.peers_python]),
        ("text LSTM/GRU", [sys.executable, str(HERE / "bench_text.py"), "--rounds",
                           "1" if args.quick else "3", "--peers-python", args.peers_python]),
        ("LSTM training step profile", [sys.executable, str(HERE / "bench_text.py"),
                                        "--profile", "lstm"]),
        ("seed CNN on shared cores", [sys.executable, str(HERE / "bench_contention.py"),
                                      "--rounds", "1" if args.quick else "3",
                                      "--peers-python", args.peers_python]),
    ]
    status = 0
    for title, cmd in steps:
        print(f"\n## {title}\n\n$ {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}",
              flush=True)
        rc = subprocess.call(cmd, env=env)
        if rc != 0:
            print(f"(failed with exit code {rc})")
            status = rc
    return status


if __name__ == "__main__":
    raise SystemExit(main())
