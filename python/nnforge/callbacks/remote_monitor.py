"""``RemoteMonitor``: post each epoch's logs to an HTTP server."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .callback import Callback


class RemoteMonitor(Callback):
    """Send each epoch's logs to a server with an HTTP POST (``keras.callbacks.RemoteMonitor``),
    using the standard library (Keras uses ``requests``; the request is the same).

    The body is the form field ``field`` holding the JSON of ``{"epoch": epoch, **logs}``
    (``application/x-www-form-urlencoded``), or that JSON itself with ``send_as_json=True``.
    An unreachable server gives a warning, not an error.

    Args:
        root: the server's root URL.
        path: the path the events are posted to.
        field: the form field holding the JSON.
        headers: extra HTTP headers (a dict).
        send_as_json: send the JSON as the body (``application/json``).

    Example:

    >>> cb = nnforge.callbacks.RemoteMonitor(root="http://localhost:9000")
    >>> model.fit(x, y, epochs=3, callbacks=[cb])
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        send = {"epoch": epoch}
        for k, v in logs.items():
            if isinstance(v, (np.ndarray, np.generic)):
                send[k] = v.item()
            elif hasattr(v, "numpy"):  # a Tensor
                send[k] = np.asarray(v.numpy()).item()
            else:
                send[k] = v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
