"""``StackedRNNCells``: several recurrent cells run as one, each step feeding the next cell
with the previous cell's output (``keras.layers.StackedRNNCells``), for ``RNN``."""
from __future__ import annotations

from typing import List

from nnforge.saving.serialization import deserialize_layer, serialize_layer
from nnforge.saving.weights_file import container_names

from .layer import Layer


def _sizes(cell) -> List[int]:
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


class StackedRNNCells(Layer):
    """A stack of cells used by ``RNN`` as one cell: at each step cell 0 reads the input and
    every later cell reads the output of the one before it; the states are the cells' states in
    order.

    Args:
        cells: a list of cells (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` or another
            ``StackedRNNCells``).

    With ``RNN(..., return_state=True)`` the states come back grouped per cell as Keras returns
    them: a list for a cell with several states (LSTM's [h, c]), the tensor itself for a cell
    with one.

    Example:

    >>> cells = [nnforge.layers.LSTMCell(8), nnforge.layers.GRUCell(4)]
    >>> layer = nnforge.layers.RNN(nnforge.layers.StackedRNNCells(cells))
    >>> layer(np.ones((2, 5, 3), "float32")).shape
    (2, 4)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError(f"StackedRNNCells '{self.name}': cells must not be empty")
        for cell in cells:
            if not (hasattr(cell, "step") and hasattr(cell, "project")
                    and hasattr(cell, "state_size")):
                raise ValueError(f"StackedRNNCells '{self.name}': every cell must be an nnforge "
                                 f"recurrent cell (with state_size, project and step), got "
                                 f"{cell!r}")
        self.cells = cells

    @property
    def state_size(self) -> List[int]:
        """The sizes of every cell's states, in order (flat)."""
        return [s for cell in self.cells for s in _sizes(cell)]

    @property
    def output_size(self) -> int:
        """The size of the last cell's output."""
        return self.units

    @property
    def units(self) -> int:
        last = self.cells[-1]
        return last.units if hasattr(last, "units") else _sizes(last)[0]

    def _sublayer_groups(self):
        # Keras's saving library writes a list attribute as cells/<class in snake_case>[_n].
        return [(f"cells/{name}", cell) for name, cell in container_names(self.cells)]

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
            shape = shape[:-1] + (cell.units,)
        self.built = True

    def project(self, x):
        """The first cell's input projection of every step."""
        return self.cells[0].project(x)

    def _split(self, states) -> List[list]:
        out, i = [], 0
        for cell in self.cells:
            n = len(_sizes(cell))
            out.append(list(states[i:i + n]))
            i += n
        return out

    def step(self, xp, states):
        """One step: returns (last cell's output, every cell's new states, flat)."""
        new_states = []
        h = None
        for i, (cell, own) in enumerate(zip(self.cells, self._split(states))):
            h, own = cell.step(xp if i == 0 else cell.project(h), own)
            new_states.extend(own)
        return h, new_states

    def nest_states(self, states) -> list:
        """Flat states grouped per cell as Keras's RNN returns them."""
        return [group if isinstance(cell.state_size, (list, tuple)) else group[0]
                for cell, group in zip(self.cells, self._split(states))]

    def get_config(self) -> dict:
        config = super().get_config()
        config["cells"] = [serialize_layer(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
