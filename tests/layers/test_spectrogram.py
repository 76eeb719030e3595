"""STFTSpectrogram and MelSpectrogram against Keras 3 goldens; gradients, saving."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.helpers import check_layer_grads

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
AUDIO, WAVE = G["audio"], G["wave"]


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
def test_stft_modes_match_keras(mode):
    lay = layers.STFTSpectrogram(mode=mode, frame_length=16, frame_step=8, fft_length=32)
    out = lay(AUDIO).numpy()
    if mode == "angle":  # at DC/Nyquist the imaginary part is ~0: +-pi are the same angle
        d = (out - G["stft_angle"] + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(d, 0, atol=2e-3)
    else:
        np.testing.assert_allclose(out, G[f"stft_{mode}"], rtol=1e-4, atol=1e-4)
    assert lay.compute_output_shape(AUDIO.shape) == out.shape


def test_stft_options_match_keras():
    lay = layers.STFTSpectrogram(mode="magnitude", frame_length=20, window="hamming",
                                 periodic=True, scaling="spectrum", padding="same",
                                 expand_dims=True)
    out = lay(AUDIO).numpy()
    np.testing.assert_allclose(out, G["stft_same_hamming"], rtol=1e-4, atol=1e-5)
    assert lay.compute_output_shape(AUDIO.shape) == out.shape
    out = layers.STFTSpectrogram(mode="real", frame_length=12, window=None, scaling=None)(AUDIO)
    np.testing.assert_allclose(out.numpy(), G["stft_nowin"], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="frame_step"):
        layers.STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="not supported"):
        layers.STFTSpectrogram(window="blackman")
    with pytest.raises(ValueError, match="mode"):
        layers.STFTSpectrogram(mode="power")


def test_stft_trains_and_saves(tmp_path):
    lay = layers.STFTSpectrogram(mode="magnitude", frame_length=8, fft_length=8)
    check_layer_grads(lay, AUDIO[:1, :24, :1].astype(np.float64))
    assert [w.name for w in lay.trainable_weights] == ["real_kernel", "imag_kernel"]
    model = keras.Sequential([keras.Input((120, 2)), layers.STFTSpectrogram(
        mode="log", frame_length=16, frame_step=8, fft_length=32)])
    path = str(tmp_path / "stft.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict(AUDIO, verbose=0),
                               G["stft_log"], rtol=1e-4, atol=1e-4)


def test_mel_matches_keras(tmp_path):
    out = layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16)(WAVE)
    np.testing.assert_allclose(out.numpy(), G["mel_default"], rtol=1e-4, atol=2e-3)
    lay = layers.MelSpectrogram(fft_length=128, sequence_stride=40, sequence_length=100,
                                window="hamming", sampling_rate=8000, num_mel_bins=10,
                                min_freq=50.0, max_freq=3000.0, mag_exp=1.0, top_db=30.0,
                                ref_power=2.0)
    np.testing.assert_allclose(lay(WAVE).numpy(), G["mel_custom"], rtol=1e-4, atol=2e-3)
    out = layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8,
                                power_to_db=False)(WAVE[0]).numpy()
    np.testing.assert_allclose(out, G["mel_nodb"], rtol=1e-3, atol=1e-3)
    cfg = lay.get_config()
    assert layers.MelSpectrogram.from_config(cfg).get_config() == cfg
    with pytest.raises(ValueError, match="fft_length"):
        layers.MelSpectrogram(fft_length=64, sequence_length=128)
