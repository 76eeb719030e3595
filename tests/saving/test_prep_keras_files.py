"""Loading .keras files that Keras 3 itself wrote with preprocessing layers (configs, adapted
vocabularies and boundaries, STFT weights) and predicting as Keras did."""
import os

import numpy as np

import nnforge as keras

HERE = os.path.join(os.path.dirname(__file__), "..", "golden")
G = np.load(os.path.join(HERE, "prep.npz"))


def test_image_preprocessing_model_from_keras():
    model = keras.saving.load_model(os.path.join(HERE, "prep_image_model.keras"))
    np.testing.assert_allclose(model.predict(G["img"], verbose=0), G["keras_img_model_out"],
                               atol=1e-5)


def test_categorical_model_from_keras():
    model = keras.saving.load_model(os.path.join(HERE, "prep_cat_model.keras"))
    cat_x = np.array([[3, 7, 5, 1], [9, 9, 0, 3]])
    num_x = np.array([[4.0, 25.0], [12.0, 19.5]], np.float32)
    outs = model.predict([cat_x, num_x], verbose=0)
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o, G[f"keras_cat_model_out{i}"], atol=1e-6)


def test_stft_model_from_keras():
    model = keras.saving.load_model(os.path.join(HERE, "prep_stft_model.keras"))
    np.testing.assert_allclose(model.predict(G["audio"], verbose=0), G["keras_stft_model_out"],
                               rtol=1e-4, atol=1e-4)
