"""Saving methods of ``Model``: ``save``, ``save_weights``, ``load_weights`` and the compile
config, as Keras 3 has them."""
from __future__ import annotations


class ModelIO:
    def save(self, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
        """Save the model (architecture, weights, compile config and optimizer state) to a
        Keras 3 ``.keras`` file, atomically."""
        from .keras_file import save_model
        from nnforge import distribution as distribution_lib
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0 writes, the others wait for it
            strategy.on_first_process(save_model, self, filepath, overwrite=overwrite,
                                      include_optimizer=kwargs.pop("include_optimizer", True))
            return
        save_model(self, filepath, overwrite=overwrite,
                   include_optimizer=kwargs.pop("include_optimizer", True))

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights to a ``.weights.h5`` file (Keras 3 layout), atomically."""
        from .weights_file import save_weights
        from nnforge import distribution as distribution_lib
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0 writes, the others wait for it
            strategy.on_first_process(save_weights, self, filepath, overwrite=overwrite)
            return
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False, **kwargs) -> None:
        """Load weights saved by ``save_weights`` (or from a ``.keras`` file)."""
        from .weights_file import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch)
        from nnforge import distribution as distribution_lib
        strategy = distribution_lib.distribution()
        if strategy is not None:  # distribution: process 0's loaded variables everywhere
            strategy.broadcast_variables(self)

    def get_compile_config(self):
        from .keras_file import _compile_config
        return _compile_config(self)

    def compile_from_config(self, config: dict) -> None:
        from .keras_file import _compile_from_config
        _compile_from_config(self, config, None, f"compile_from_config ({self.name})")
