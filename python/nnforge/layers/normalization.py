"""Batch normalization."""
from __future__ import annotations

import numpy as np

from nnforge import backend, initializers, ops

from ._weight_options import set_weight_options, weight_options_config
from .layer import Layer
from .layer_normalization import add_gamma_beta


def _sync_strategy():
    """The active distribution when it spans several processes, else None."""
    from nnforge import distribution as distribution_lib
    strategy = distribution_lib.distribution()
    return strategy if strategy is not None and strategy.num_processes > 1 else None


class BatchNormalization(Layer):
    """Normalizes its inputs with the batch's statistics in training and with moving averages
    of them at inference (``keras.layers.BatchNormalization``).

    Args:
        axis: the features axis (default -1, channels_last).
        momentum: momentum of the moving averages (0.99).
        epsilon: added to the variance (1e-3).
        center, scale: learn the offset beta / the scale gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
        gamma_constraint: as in Keras.
        synchronized: in a job with ``nnforge.distribution.DataParallel`` over several
            processes, compute the training statistics over every process's rows (the mean and
            variance of the global batch) instead of each process's own; no effect otherwise.

    In training mode (``training=True`` and the layer trainable) the output is
    ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta`` over the batch, and
    ``moving = moving * momentum + batch_stat * (1 - momentum)``.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized: bool = False, **kwargs):
        if kwargs.pop("renorm", False):
            raise ValueError("BatchNormalization: renorm=True is not supported")
        kwargs.pop("renorm_clipping", None)
        kwargs.pop("renorm_momentum", None)
        super().__init__(**kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization '{self.name}': momentum must be in [0, 1], "
                             f"got {momentum}")
        if epsilon <= 0:
            raise ValueError(f"BatchNormalization '{self.name}': epsilon must be positive, "
                             f"got {epsilon}")
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        set_weight_options(self, beta=(beta_initializer, beta_regularizer, beta_constraint),
                           gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.supports_masking = True
        self.synchronized = bool(synchronized)

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} is out of range "
                             f"for an input of shape {tuple(input_shape)}")
        self._ax = self.axis % ndim
        dim = input_shape[self._ax]
        if dim is None:
            raise ValueError(f"BatchNormalization '{self.name}': the features axis of the input "
                             f"must be known, got shape {tuple(input_shape)}")
        shape = (dim,)
        add_gamma_beta(self, shape)
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        self._ndim = ndim
        self.built = True

    def _bshape(self):
        shape = [1] * self._ndim
        shape[self._ax] = -1
        return tuple(shape)

    def call(self, inputs, training=None):
        if len(inputs.shape) != self._ndim:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible: expected rank "
                             f"{self._ndim}, got shape {tuple(inputs.shape)}")
        bshape = self._bshape()
        axes = tuple(i for i in range(self._ndim) if i != self._ax)
        if training and self.trainable:
            strategy = _sync_strategy() if self.synchronized else None
            if strategy is not None:  # statistics over every process's rows
                from nnforge.distribution.sync_batchnorm import moments
                mean, centered, var = moments(strategy, inputs, axes)
            else:
                mean = ops.mean(inputs, axis=axes, keepdims=True)
                centered = ops.subtract(inputs, mean)
                var = ops.mean(ops.square(centered), axis=axes, keepdims=True)
            m = np.float32(self.momentum)
            self.moving_mean.data[...] = (self.moving_mean.data * m +
                                          mean.data.reshape(-1) * (1 - m))
            self.moving_variance.data[...] = (self.moving_variance.data * m +
                                              var.data.reshape(-1) * (1 - m))
            y = ops.divide(centered, ops.sqrt(ops.add(var, self.epsilon)))
        else:
            mean = ops.reshape(self.moving_mean, bshape)
            var = ops.reshape(self.moving_variance, bshape)
            y = ops.divide(ops.subtract(inputs, mean), ops.sqrt(ops.add(var, self.epsilon)))
        if self.gamma is not None:
            y = ops.multiply(y, ops.reshape(self.gamma, bshape))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, bshape))
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            **weight_options_config(self, "beta", "gamma"),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "synchronized": self.synchronized,
        })
        return config
