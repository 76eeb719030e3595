"""Resident memory stays flat over many trials: each trial's model, optimizer state and
best-epoch weights are released."""
import pytest

import nnforge as keras
from nnforge import layers
from nnforge import tuner as kt
from nnforge.tuner._memory import resident_memory_bytes


def build_seed_mlp(hp):
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dropout(hp.Float("dropout", 0.0, 0.5)),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.slow
def test_resident_memory_grows_less_than_50mb_over_30_trials(tmp_path):
    (x, y), _ = keras.datasets.mnist.load_data()
    x = x[:1000].astype("float32") / 255
    y = keras.utils.to_categorical(y[:1000], 10)
    tuner = kt.RandomSearch(build_seed_mlp, objective="val_accuracy", max_trials=5, seed=0,
                            directory=str(tmp_path), project_name="mem")
    tuner.search(x, y, epochs=1, batch_size=64, validation_split=0.2, verbose=0)
    warm = resident_memory_bytes()
    tuner.max_trials = 35
    tuner.search(x, y, epochs=1, batch_size=64, validation_split=0.2, verbose=0)
    grown = resident_memory_bytes() - warm
    assert len([t for t in tuner.trials if t["status"] == "COMPLETED"]) == 35
    print(f"RSS after 5 trials {warm / 2 ** 20:.1f} MB, growth over the next 30: "
          f"{grown / 2 ** 20:.1f} MB")
    assert warm > 0 and grown < 50 * 2 ** 20, f"RSS grew {grown / 2 ** 20:.1f} MB over 30 trials"


def test_release_memory_frees_cupys_pools_when_cupy_is_in_use(monkeypatch):
    import sys
    import types

    from nnforge.tuner._memory import release_memory

    freed = []

    class Pool:
        def __init__(self, name):
            self.name = name

        def free_all_blocks(self):
            freed.append(self.name)

    fake = types.SimpleNamespace(get_default_memory_pool=lambda: Pool("device"),
                                 get_default_pinned_memory_pool=lambda: Pool("pinned"))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    release_memory()
    assert freed == ["device", "pinned"]
    monkeypatch.delitem(sys.modules, "cupy")
    release_memory()  # no CuPy imported: nothing to free, nothing imported
    assert freed == ["device", "pinned"] and "cupy" not in sys.modules
