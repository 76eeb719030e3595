"""The layer configurations compared with Keras 3, shared by make_golden.py (which runs Keras)
and the tests (which load its outputs)."""

CONV_SPECS = {
    "t_valid2": ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="valid")),
    "t_same2": ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same")),
    "t_same1": ("Conv2DTranspose", dict(filters=4, kernel_size=(2, 3), padding="same")),
    "d_same": ("DepthwiseConv2D", dict(kernel_size=3, padding="same", depth_multiplier=2)),
    "d_valid2": ("DepthwiseConv2D", dict(kernel_size=3, strides=2)),
    "s_same": ("SeparableConv2D", dict(filters=5, kernel_size=3, padding="same",
                                       depth_multiplier=2)),
}
RNN_KINDS = ("SimpleRNN", "LSTM", "GRU")
