"""Golden outputs of Keras 3 for the "misc" API-breadth work: losses (focal, generalized CE,
Dice, Tversky, Circle), metrics (regression, correlation, confusion counts, *AtSensitivity &
co., F-beta, R2, IoU), optimizer steps (Ftrl, Lion, Lamb, Adafactor, Muon, ScheduleFreeAdamW,
LossScaleOptimizer) and the deterministic initializers (Identity, STFT).

Run with the peers venv (real Keras 3.15 on TensorFlow) from the repository root:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_misc_golden.py

It writes tests/golden/misc.npz; tests/{losses,metrics,optimizers,...}/test_*_misc*.py read it
(no Keras needed to run the tests). The case lists below are imported by those tests too
(``LOSS_CASES`` ...), so inputs and arguments have one definition."""
from __future__ import annotations

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "misc.npz")

# ---- inputs (seeded) -----------------------------------------------------------------------------


def inputs() -> dict:
    rng = np.random.default_rng(1234)
    d = {}
    d["bin_true"] = rng.integers(0, 2, (6, 4)).astype(np.float32)
    d["bin_prob"] = rng.uniform(0.02, 0.98, (6, 4)).astype(np.float32)
    d["bin_logit"] = rng.normal(0, 2, (6, 4)).astype(np.float32)
    d["cat_true"] = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 6)]
    p = rng.uniform(0.05, 1.0, (6, 5)).astype(np.float32)
    d["cat_prob"] = (p / p.sum(-1, keepdims=True)).astype(np.float32)
    d["cat_logit"] = rng.normal(0, 2, (6, 5)).astype(np.float32)
    d["sparse_true"] = rng.integers(0, 5, 6).astype(np.int64)
    d["seg_true"] = rng.integers(0, 2, (3, 4, 4, 1)).astype(np.float32)
    d["seg_prob"] = rng.uniform(0, 1, (3, 4, 4, 1)).astype(np.float32)
    emb = rng.normal(0, 1, (8, 6)).astype(np.float32)
    d["emb"] = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    d["emb_labels"] = np.array([0, 1, 0, 2, 1, 3, 2, 0], np.int64)
    d["reg_true"] = rng.normal(0, 1, (7, 3)).astype(np.float32)
    d["reg_pred"] = (d["reg_true"] + rng.normal(0, 0.5, (7, 3))).astype(np.float32)
    d["pos_true"] = rng.uniform(0.1, 3, (7, 3)).astype(np.float32)
    d["pos_pred"] = rng.uniform(0.1, 3, (7, 3)).astype(np.float32)
    d["sw6"] = rng.uniform(0.2, 1.5, 6).astype(np.float32)
    d["sw7"] = rng.uniform(0.2, 1.5, 7).astype(np.float32)
    d["score_true"] = rng.integers(0, 2, 40).astype(np.float32)
    d["score_pred"] = np.clip(0.35 * d["score_true"] + rng.uniform(0, 0.65, 40), 0, 1).astype(
        np.float32)
    d["score_sw"] = rng.uniform(0.1, 1.0, 40).astype(np.float32)
    d["multi_true"] = rng.integers(0, 2, (10, 3)).astype(np.float32)
    d["multi_pred"] = rng.uniform(0, 1, (10, 3)).astype(np.float32)
    d["iou_true"] = rng.integers(0, 4, (2, 5, 5)).astype(np.int64)
    d["iou_pred"] = rng.integers(0, 4, (2, 5, 5)).astype(np.int64)
    d["iou_sw"] = rng.integers(0, 3, (2, 5, 5)).astype(np.float32)
    d["onehot_true"] = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 9)]
    d["onehot_pred"] = rng.uniform(0, 1, (9, 3)).astype(np.float32)
    d["opt_w"] = rng.normal(0, 1, (5, 3)).astype(np.float32)
    d["opt_w2"] = rng.normal(0, 1, (3, 4)).astype(np.float32)
    d["opt_b"] = rng.normal(0, 1, (3,)).astype(np.float32)
    d["opt_gw"] = rng.normal(0, 1, (5, 5, 3)).astype(np.float32)
    d["opt_gw2"] = rng.normal(0, 1, (5, 3, 4)).astype(np.float32)
    d["opt_gb"] = rng.normal(0, 1, (5, 3)).astype(np.float32)
    d["reg_w"] = rng.normal(0, 1, (4, 3)).astype(np.float32)
    xy1 = rng.uniform(-5, 40, (2, 3, 2))
    wh = rng.uniform(1, 25, (2, 3, 2))
    d["bb_boxes"] = np.concatenate([xy1, xy1 + wh], axis=-1).astype(np.float32)
    xy1 = rng.uniform(0, 35, (2, 4, 2))
    d["bb_boxes2"] = np.concatenate([xy1, xy1 + rng.uniform(1, 20, (2, 4, 2))],
                                    axis=-1).astype(np.float32)
    d["bb_boxes2"][0, 3] = -1.0  # a padding box
    d["bb_labels"] = np.array([[1, 2, 3], [4, 5, 6]], np.int64)
    d["bb_angle"] = np.array([15.0, -30.0], np.float32)
    d["bb_tx"] = np.array([0.1, -0.05], np.float32)
    d["bb_ty"] = np.array([0.0, 0.2], np.float32)
    d["bb_scale"] = np.array([1.1, 0.8], np.float32)
    d["bb_shx"] = np.array([5.0, 0.0], np.float32)
    d["bb_shy"] = np.array([0.0, -8.0], np.float32)
    d["con_w"] = rng.normal(0, 1.2, (5, 3)).astype(np.float32)
    return d


# ---- cases: (key, name, kwargs, y_true key, y_pred key, sample weight key or None) ------------

LOSS_CASES = [
    ("bfce", "BinaryFocalCrossentropy", {}, "bin_true", "bin_prob", None),
    ("bfce_bal", "BinaryFocalCrossentropy",
     {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5, "label_smoothing": 0.1},
     "bin_true", "bin_prob", "sw6"),
    ("bfce_logits", "BinaryFocalCrossentropy", {"from_logits": True, "reduction": "none"},
     "bin_true", "bin_logit", None),
    ("cfce", "CategoricalFocalCrossentropy", {}, "cat_true", "cat_prob", None),
    ("cfce_logits", "CategoricalFocalCrossentropy",
     {"from_logits": True, "alpha": 0.5, "gamma": 3.0, "label_smoothing": 0.2,
      "reduction": "none"}, "cat_true", "cat_logit", None),
    ("cfce_sum", "CategoricalFocalCrossentropy", {"reduction": "sum"}, "cat_true", "cat_prob",
     "sw6"),
    ("gce", "CategoricalGeneralizedCrossEntropy", {}, "sparse_true", "cat_prob", None),
    ("gce_q", "CategoricalGeneralizedCrossEntropy", {"q": 0.2, "reduction": "none"},
     "sparse_true", "cat_prob", None),
    ("dice", "Dice", {}, "seg_true", "seg_prob", None),
    ("dice_axis", "Dice", {"axis": (1, 2, 3), "reduction": "none"}, "seg_true", "seg_prob",
     None),
    ("tversky", "Tversky", {"alpha": 0.3, "beta": 0.7}, "seg_true", "seg_prob", None),
    ("tversky_axis", "Tversky", {"axis": (1, 2), "reduction": "none"}, "seg_true", "seg_prob",
     None),
    ("circle", "Circle", {}, "emb_labels", "emb", None),
    ("circle_args", "Circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False,
                               "reduction": "none"}, "emb_labels", "emb", None),
]

METRIC_CASES = [
    ("hinge", "Hinge", {}, "bin_true", "bin_logit", "sw6"),
    ("sq_hinge", "SquaredHinge", {}, "bin_true", "bin_logit", None),
    ("cat_hinge", "CategoricalHinge", {}, "cat_true", "cat_logit", None),
    ("kld", "KLDivergence", {}, "cat_prob", "cat_true", "sw6"),
    ("poisson", "Poisson", {}, "pos_true", "pos_pred", None),
    ("logcosh", "LogCoshError", {}, "reg_true", "reg_pred", "sw7"),
    ("mape", "MeanAbsolutePercentageError", {}, "pos_true", "pos_pred", None),
    ("msle", "MeanSquaredLogarithmicError", {}, "pos_true", "pos_pred", "sw7"),
    ("cos", "CosineSimilarity", {}, "reg_true", "reg_pred", None),
    ("cos0", "CosineSimilarity", {"axis": 0}, "reg_true", "reg_pred", None),
    ("pearson", "PearsonCorrelation", {}, "reg_true", "reg_pred", None),
    ("pearson0", "PearsonCorrelation", {"axis": 0}, "reg_true", "reg_pred", None),
    ("ccc", "ConcordanceCorrelation", {}, "reg_true", "reg_pred", "sw7"),
    ("rmse", "RootMeanSquaredError", {}, "reg_true", "reg_pred", "sw7"),
    ("r2", "R2Score", {}, "reg_true", "reg_pred", None),
    ("r2_w", "R2Score", {"class_aggregation": "variance_weighted_average"}, "reg_true",
     "reg_pred", "sw7"),
    ("r2_none", "R2Score", {"class_aggregation": None, "num_regressors": 2}, "reg_true",
     "reg_pred", None),
    ("tp", "TruePositives", {}, "multi_true", "multi_pred", None),
    ("fp", "FalsePositives", {"thresholds": [0.2, 0.5, 0.9]}, "multi_true", "multi_pred", None),
    ("tn", "TrueNegatives", {"thresholds": 0.3}, "score_true", "score_pred", "score_sw"),
    ("fn", "FalseNegatives", {}, "score_true", "score_pred", "score_sw"),
    ("sens_at_spec", "SensitivityAtSpecificity", {"specificity": 0.6}, "score_true",
     "score_pred", None),
    ("spec_at_sens", "SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 50},
     "score_true", "score_pred", "score_sw"),
    ("prec_at_rec", "PrecisionAtRecall", {"recall": 0.8}, "score_true", "score_pred", None),
    ("rec_at_prec", "RecallAtPrecision", {"precision": 0.6, "num_thresholds": 30},
     "score_true", "score_pred", "score_sw"),
    ("prec_at_rec_cls", "PrecisionAtRecall", {"recall": 0.5, "class_id": 1}, "multi_true",
     "multi_pred", None),
    ("fbeta", "FBetaScore", {}, "cat_true", "cat_prob", None),
    ("fbeta_macro", "FBetaScore", {"average": "macro", "beta": 2.0, "threshold": 0.25},
     "multi_true", "multi_pred", None),
    ("fbeta_micro", "FBetaScore", {"average": "micro", "beta": 0.5}, "cat_true", "cat_prob",
     "sw6"),
    ("fbeta_weighted", "FBetaScore", {"average": "weighted", "threshold": 0.4}, "multi_true",
     "multi_pred", None),
    ("iou", "IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, "iou_true", "iou_pred",
     None),
    ("iou_w", "IoU", {"num_classes": 4, "target_class_ids": [1, 3], "ignore_class": 2},
     "iou_true", "iou_pred", "iou_sw"),
    ("miou", "MeanIoU", {"num_classes": 4}, "iou_true", "iou_pred", None),
    ("miou_f", "MeanIoU", {"num_classes": 4, "dtype": "float32"}, "iou_true", "iou_pred",
     "iou_sw"),
    ("biou", "BinaryIoU", {"target_class_ids": [0, 1], "threshold": 0.4}, "score_true",
     "score_pred", None),
    ("biou1", "BinaryIoU", {"target_class_ids": [1]}, "multi_true", "multi_pred", None),
    ("ohiou", "OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "onehot_true",
     "onehot_pred", None),
    ("ohmiou", "OneHotMeanIoU", {"num_classes": 3}, "onehot_true", "onehot_pred", None),
]

FUNCTION_CASES = [  # keras.metrics functions: (key, name, kwargs, y_true key, y_pred key)
    ("pearson_fn", "pearson_correlation", {}, "reg_true", "reg_pred"),
    ("ccc_fn", "concordance_correlation", {"axis": 0}, "reg_true", "reg_pred"),
    ("bfce_fn", "binary_focal_crossentropy", {"gamma": 2}, "bin_true", "bin_prob"),
    ("cfce_fn", "categorical_focal_crossentropy", {}, "cat_true", "cat_prob"),
    ("gce_fn", "categorical_generalized_cross_entropy", {"q": 0.7}, "sparse_true", "cat_prob"),
    ("dice_fn", "dice", {}, "seg_true", "seg_prob"),
    ("tversky_fn", "tversky", {"alpha": 0.2, "beta": 0.8}, "seg_true", "seg_prob"),
    ("circle_fn", "circle", {"gamma": 20}, "emb_labels", "emb"),
]

OPT_CASES = [  # (key, class name, kwargs)
    ("ftrl", "Ftrl", {"learning_rate": 0.1}),
    ("ftrl_reg", "Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.3,
                          "initial_accumulator_value": 0.2, "l1_regularization_strength": 0.01,
                          "l2_regularization_strength": 0.02,
                          "l2_shrinkage_regularization_strength": 0.03, "beta": 0.1}),
    ("lion", "Lion", {"learning_rate": 0.01}),
    ("lion_wd", "Lion", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.95,
                         "weight_decay": 0.1}),
    ("lamb", "Lamb", {"learning_rate": 0.01}),
    ("lamb_clip", "Lamb", {"learning_rate": 0.02, "beta_1": 0.8, "clipnorm": 1.0}),
    ("adafactor", "Adafactor", {"learning_rate": 0.01}),
    ("adafactor_abs", "Adafactor", {"learning_rate": 0.5, "relative_step": False,
                                    "clip_threshold": 0.5, "beta_2_decay": -0.5}),
    ("muon", "Muon", {"learning_rate": 0.02}),
    ("muon_plain", "Muon", {"learning_rate": 0.01, "nesterov": False, "rms_rate": None,
                            "weight_decay": 0.1, "adam_weight_decay": 0.05,
                            "adam_lr_ratio": 0.5, "ns_steps": 3}),
    ("sfadamw", "ScheduleFreeAdamW", {"learning_rate": 0.01}),
    ("sgd_ema", "SGD", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.9,
                        "ema_overwrite_frequency": 3}),
    ("adam_ema", "Adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.5,
                          "ema_overwrite_frequency": 2}),
    ("sfadamw_warm", "ScheduleFreeAdamW", {"learning_rate": 0.02, "warmup_steps": 3,
                                           "weight_decay": 0.01}),
]


def flat_weights(d, prefix=""):
    """{"a/b/0": [shape], ...} of an editor's nested weights dict."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat_weights(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = list(np.shape(v))
    return out


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    d = inputs()
    out = dict(d)
    for key, name, kw, t, p, sw in LOSS_CASES:
        loss = getattr(keras.losses, name)(**kw)
        args = {} if sw is None else {"sample_weight": d[sw]}
        out[f"loss_{key}"] = np.asarray(loss(d[t], d[p], **args))
    for key, name, kw, t, p, sw in METRIC_CASES:
        m = getattr(keras.metrics, name)(**kw)
        n = len(d[t])
        half = n // 2
        for sl in (slice(0, half), slice(half, n)):  # two batches
            args = {} if sw is None else {"sample_weight": d[sw][sl]}
            m.update_state(d[t][sl], d[p][sl], **args)
        out[f"metric_{key}"] = np.asarray(m.result())
    import keras.losses as kl
    import keras.metrics as km
    for key, name, kw, t, p in FUNCTION_CASES:
        fn = getattr(km, name, None) or getattr(kl, name)
        out[f"fn_{key}"] = np.asarray(fn(d[t], d[p], **kw))
    for key, name, kw in OPT_CASES:
        opt = getattr(keras.optimizers, name)(**kw)
        w = keras.Variable(d["opt_w"], name="kernel")
        w2 = keras.Variable(d["opt_w2"], name="dense_kernel")
        b = keras.Variable(d["opt_b"], name="bias")
        traj = []
        for s in range(5):
            opt.apply([d["opt_gw"][s], d["opt_gw2"][s], d["opt_gb"][s]], [w, w2, b])
            traj.append(np.concatenate([np.asarray(w).ravel(), np.asarray(w2).ravel(),
                                        np.asarray(b).ravel()]))
        out[f"opt_{key}"] = np.stack(traj)
    # LossScaleOptimizer: one non-finite step (skipped, scale halved), growth every 2 steps
    lso = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0,
                                              dynamic_growth_steps=2)
    w = keras.Variable(d["opt_w"], name="kernel")
    traj, scales = [], []
    for s in range(5):
        g = d["opt_gw"][s] * np.float32(float(lso.dynamic_scale.numpy()) if lso.built else 8.0)
        if s == 2:
            g = g.copy()
            g[0, 0] = np.inf
        lso.apply([g], [w])
        traj.append(np.asarray(w).ravel())
        scales.append(float(lso.dynamic_scale.numpy()))
    out["opt_lso"] = np.stack(traj)
    out["opt_lso_scales"] = np.asarray(scales, np.float32)
    # MultiOptimizer: Adam by default, SGD with momentum for the variables matching "bias"
    multi = keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras.optimizers.Adam(0.05), {"bias": keras.optimizers.SGD(0.1, momentum=0.9)}))
    w = keras.Variable(d["opt_w"], name="kernel")
    b = keras.Variable(d["opt_b"], name="bias")
    traj = []
    for s in range(5):
        multi.apply([d["opt_gw"][s], d["opt_gb"][s]], [w, b])
        traj.append(np.concatenate([np.asarray(w).ravel(), np.asarray(b).ravel()]))
    out["opt_multi"] = np.stack(traj)
    # deterministic initializers
    out["init_identity"] = np.asarray(keras.initializers.Identity(gain=2.0)((4, 6)))
    for i, (kw, ours, shape) in enumerate(STFT_CASES):  # no scipy here: windows as arrays
        out[f"init_stft{i}"] = np.asarray(keras.initializers.STFT(**kw)(shape))
    for key, name, kw in REG_CASES:
        reg = getattr(keras.regularizers, name)(**kw)
        out[f"reg_{key}"] = np.asarray(reg(keras.Variable(d["reg_w"])))
    for key, name, kw in CONSTRAINT_CASES:
        out[f"con_{key}"] = np.asarray(getattr(keras.constraints, name)(**kw)(
            keras.ops.convert_to_tensor(d["con_w"])))
    # split_dataset (TensorFlow path: Python's random seeded with `seed` shuffles the samples)
    data = (np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10, dtype=np.int64))
    for key, kw in (("split_plain", {"left_size": 0.7}),
                    ("split_shuffle", {"left_size": 6, "right_size": 3, "shuffle": True,
                                       "seed": 7})):
        left, right = keras.utils.split_dataset(data, **kw)
        out[f"{key}_left"] = np.stack([np.asarray(s[1]) for s in left])
        out[f"{key}_right"] = np.stack([np.asarray(s[1]) for s in right])
    bb = keras.utils.bounding_boxes
    H, W = 40, 60
    for f in BB_FORMATS:
        conv = np.asarray(bb.convert_format(d["bb_boxes"], "xyxy", f, height=H, width=W))
        out[f"bb_to_{f}"] = conv
        out[f"bb_from_{f}"] = np.asarray(bb.convert_format(conv, f, "center_yxhw", height=H,
                                                           width=W))
    clipped = bb.clip_to_image_size({"boxes": d["bb_boxes"], "labels": d["bb_labels"]},
                                    height=H, width=W)
    out["bb_clip_boxes"] = np.asarray(clipped["boxes"])
    out["bb_clip_labels"] = np.asarray(clipped["labels"])
    out["bb_affine"] = np.asarray(bb.affine_transform(
        d["bb_boxes"], d["bb_angle"], d["bb_tx"], d["bb_ty"], d["bb_scale"], d["bb_shx"],
        d["bb_shy"], H, W))
    out["bb_affine_c"] = np.asarray(bb.affine_transform(
        d["bb_boxes"], d["bb_angle"], d["bb_tx"], d["bb_ty"], d["bb_scale"], d["bb_shx"],
        d["bb_shy"], H, W, center_x=0.3, center_y=0.6))
    out["bb_crop"] = np.asarray(bb.crop(d["bb_boxes"], 5, 7, 25, 30))
    out["bb_pad"] = np.asarray(bb.pad(d["bb_boxes"], 4, 9))
    anchors = d["bb_boxes2"][1, :3]
    deltas = bb.encode_box_to_deltas(anchors, d["bb_boxes"][0], "xyxy", "xyxy",
                                     variance=[0.1, 0.1, 0.2, 0.2])
    out["bb_deltas"] = np.asarray(deltas)
    out["bb_deltas_xywh"] = np.asarray(bb.encode_box_to_deltas(
        anchors, d["bb_boxes"][1], "xyxy", "xyxy", encoding_format="center_xywh"))
    out["bb_decoded"] = np.asarray(bb.decode_deltas_to_boxes(
        anchors, np.asarray(deltas) * 0.5, "xyxy", "yxyx", variance=[0.1, 0.1, 0.2, 0.2]))
    out["bb_iou"] = np.asarray(bb.compute_iou(d["bb_boxes"][0], d["bb_boxes2"][1], "xyxy"))
    out["bb_iou_batch"] = np.asarray(bb.compute_iou(d["bb_boxes"], d["bb_boxes2"], "xyxy",
                                                    use_masking=True))
    out["bb_iou_rel"] = np.asarray(bb.compute_iou(
        out["bb_to_rel_yxyx"][0], out["bb_to_rel_yxyx"][1], "rel_yxyx", image_shape=(H, W, 3)))
    out["bb_ciou"] = np.asarray(bb.compute_ciou(d["bb_boxes"], d["bb_boxes2"][:, :3], "xyxy"))
    # .keras files written by Keras with the wrapper / EMA optimizers (bytes), and the values
    # of their optimizer variables, to load in nnforge
    import tempfile
    x = d["reg_pred"][:, :3].astype(np.float32)
    y = d["reg_true"][:, :1].astype(np.float32)
    for key, make in KERAS_FILE_OPTIMIZERS.items():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), keras.layers.Dense(1)])
        m.compile(optimizer=make(keras.optimizers), loss="mse")
        m.fit(x, y, epochs=2, batch_size=4, verbose=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.keras")
            m.save(path)
            with open(path, "rb") as f:
                out[f"kfile_{key}"] = np.frombuffer(f.read(), np.uint8)
        out[f"kfile_{key}_optvars"] = np.concatenate(
            [np.asarray(v, np.float64).ravel() for v in m.optimizer.variables])
    # KerasFileEditor's view of the committed Keras 3 files (paths and shapes)
    for fname in ("keras3_cnn.keras", "keras3_rnn.keras"):
        editor = keras.saving.KerasFileEditor(os.path.join(HERE, fname))
        out[f"editor_{fname.split('.')[0]}"] = np.array(json.dumps(flat_weights(
            editor.weights_dict)))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT}: {len(out)} arrays, {os.path.getsize(OUT)} bytes")


KERAS_FILE_OPTIMIZERS = {
    "lso": lambda o: o.LossScaleOptimizer(o.Ftrl(0.1), initial_scale=64.0,
                                          dynamic_growth_steps=3),
    "multi": lambda o: o.MultiOptimizer(o.OptimizerMap(o.Adam(0.01),
                                                       {".*bias": o.SGD(0.1, momentum=0.9)})),
    "adafactor_ema": lambda o: o.Adafactor(0.01, use_ema=True, ema_momentum=0.9),
}
BB_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
              "rel_xywh", "rel_center_xywh")
REG_CASES = [("orth_rows", "OrthogonalRegularizer", {"factor": 0.1}),
             ("orth_cols", "OrthogonalRegularizer", {"factor": 0.05, "mode": "columns"})]
CONSTRAINT_CASES = [("minmax", "MinMaxNorm", {}),
                    ("minmax_rate", "MinMaxNorm", {"min_value": 1.0, "max_value": 1.5,
                                                   "rate": 0.7}),
                    ("minmax_axis1", "MinMaxNorm", {"min_value": 0.5, "max_value": 2.0,
                                                    "axis": 1})]

# (Keras kwargs with the window as an array, our kwargs naming the window, shape)
STFT_CASES = [
    ({"window": None}, {"window": None}, (8, 1, 10)),
    ({"side": "imag", "window": np.hamming(8)}, {"side": "imag", "window": "hamming"},
     (8, 1, 6)),
    ({"window": np.hanning(17)[:-1], "scaling": "spectrum"},
     {"window": "hann", "scaling": "spectrum", "periodic": True}, (16, 1, 9)),
    ({"side": "imag", "window": np.hanning(10), "scaling": None},
     {"side": "imag", "window": "hann", "scaling": None}, (10, 1, 6)),
]

if __name__ == "__main__":
    main()
