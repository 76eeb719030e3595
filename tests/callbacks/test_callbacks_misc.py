"""BackupAndRestore (resume after an interruption), SwapEMAWeights with the optimizers' use_ema
(EMA trajectories against Keras in tests/optimizers), and RemoteMonitor against a local
http.server."""
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import nnforge as keras
from nnforge import callbacks, optimizers


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    return x, y


def _model(opt=None):
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    m.compile(optimizer=opt or optimizers.SGD(0.01), loss="mse")
    return m


class _Interrupt(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("interrupted")


def test_backup_and_restore_resumes_where_it_stopped(tmp_path):
    x, y = _data()
    backup = tmp_path / "backup"
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False,
                  callbacks=[callbacks.BackupAndRestore(backup), _Interrupt(2)])
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    weights_after_2 = [w.copy() for w in model.get_weights()]
    fresh = _model()
    seen = []
    h = fresh.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False,
                  callbacks=[callbacks.BackupAndRestore(backup),
                             callbacks.LambdaCallback(
                                 on_epoch_begin=lambda e, logs: seen.append(e))])
    assert seen == [2, 3]
    assert len(h.history["loss"]) == 2
    assert not backup.exists()  # deleted at the end
    # the resumed run started from the backed-up weights
    ref = _model()
    ref.set_weights(weights_after_2)
    ref.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(fresh.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_backup_and_restore_resumes_the_optimizer_state(tmp_path):
    """With Adam, an interrupted and resumed fit ends where an uninterrupted one does: the
    backup (a .weights.h5 file, as Keras 3 writes it) holds the optimizer state too."""
    x, y = _data()
    straight = _model(optimizers.Adam(0.01))
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False)
    backup = tmp_path / "backup"
    model = _model(optimizers.Adam(0.01))
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False,
                  callbacks=[callbacks.BackupAndRestore(backup), _Interrupt(2)])
    resumed = _model(optimizers.Adam(0.01))
    resumed.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False,
                callbacks=[callbacks.BackupAndRestore(backup)])
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 16
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_backup_batch_frequency_and_double_checkpoint(tmp_path):
    x, y = _data()
    backup = tmp_path / "b"
    cb = callbacks.BackupAndRestore(backup, save_freq=3, double_checkpoint=True,
                                    delete_checkpoint=False)
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert (backup / "latest.weights.h5").exists()
    assert (backup / "latest.weights.h5.bkp").exists()
    meta = json.loads((backup / "training_metadata.json").read_text())
    # 4 batches an epoch: saved after batch 2 of epoch 0 and batch 1 of epoch 1 (Keras count)
    assert meta == {"epoch": 1, "batch": 1}
    # a corrupt latest backup falls back to the previous one
    (backup / "latest.weights.h5").write_bytes(b"not hdf5")
    m = _model()
    m.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[callbacks.BackupAndRestore(
        backup, double_checkpoint=True)])
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(backup, save_freq="batch")
    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")


def test_use_ema_finalizes_weights_at_the_end_of_fit():
    x, y = _data()
    opt = optimizers.SGD(0.05, use_ema=True, ema_momentum=0.9)
    model = _model(opt)
    seen = {}

    class Grab(callbacks.Callback):
        def on_train_end(self, logs=None):
            seen["w"] = [w.copy() for w in self.model.get_weights()]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[Grab()])
    averages = {id(v): a.numpy() for v, a in opt._ema.values()}
    for v in model.trainable_weights:
        np.testing.assert_array_equal(v.numpy(), averages[id(v)])
    assert opt.get_config()["use_ema"] is True
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)


def test_swap_ema_weights_around_evaluate_and_epochs():
    x, y = _data()
    opt = optimizers.SGD(0.05, use_ema=True, ema_momentum=0.5)
    model = _model(opt)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    # raw weights differ from the averages only before fit finalizes: step once more by hand
    with keras.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_weights)
    opt.apply(grads, model.trainable_weights)
    raw = [v.numpy().copy() for v in model.trainable_weights]
    avg = [a.numpy().copy() for _, a in opt._ema.values()]
    assert any(not np.array_equal(r, a) for r, a in zip(raw, avg))
    swap = callbacks.SwapEMAWeights()
    res_ema = model.evaluate(x, y, verbose=0, callbacks=[swap])
    for v, r in zip(model.trainable_weights, raw):
        np.testing.assert_array_equal(v.numpy(), r)  # swapped back after evaluate
    for v, a in zip(model.trainable_weights, avg):
        v.assign(a)
    res_avg = model.evaluate(x, y, verbose=0)
    assert res_ema == pytest.approx(res_avg, rel=1e-6)
    with pytest.raises(ValueError, match="use_ema"):
        m2 = _model()
        m2.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])


def test_swap_on_epoch_validates_with_averages():
    x, y = _data()
    opt = optimizers.Adam(0.01, use_ema=True, ema_momentum=0.8)
    model = _model(opt)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_data=(x, y),
              callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True)])
    for v, a in opt._ema.values():
        np.testing.assert_array_equal(v.numpy(), a.numpy())


class _Handler(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        n = int(self.headers["Content-Length"])
        _Handler.received.append((self.path, self.headers["Content-Type"],
                                  self.headers.get("X-Token"), self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.received = []
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_remote_monitor_posts_form_and_json(server):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[callbacks.RemoteMonitor(root=server, headers={"X-Token": "abc"})])
    assert len(_Handler.received) == 2
    path, ctype, token, body = _Handler.received[1]
    assert path == "/publish/epoch/end/" and token == "abc"
    assert ctype == "application/x-www-form-urlencoded"
    payload = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert payload["epoch"] == 1 and isinstance(payload["loss"], float)
    _Handler.received = []
    cb = callbacks.RemoteMonitor(root=server, path="/p", send_as_json=True)
    cb.on_epoch_end(4, {"loss": np.float32(0.5), "acc": np.array(0.25)})
    path, ctype, _, body = _Handler.received[0]
    assert path == "/p" and ctype == "application/json"
    assert json.loads(body) == {"epoch": 4, "loss": 0.5, "acc": 0.25}


def test_remote_monitor_unreachable_warns():
    cb = callbacks.RemoteMonitor(root="http://127.0.0.1:9")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        cb.on_epoch_end(0, {"loss": 1.0})
