"""i2x for PyTorch: attach a training run to the i2x daemon (i2xd) and query its analysis.

    pub = i2x.Publisher("tcp://127.0.0.1:7070", run="r1", model=model, input_shape=(1, 28, 28),
                        probe=(images, labels), classes=names)
    pub.publish(model, step=step, epoch=epoch, metrics={"loss": loss})   # every N steps
    pub.close(timeout=30)

``i2x.Client`` answers the daemon's queries as dicts; ``i2x.torch`` exports architectures.
"""

from .client import Client
from .errors import DaemonUnavailable, I2XError
from .outbox import Outbox
from .publisher import Publisher
from .sender import Directive, drain

__version__ = "0.1.0"
__all__ = ["Client", "DaemonUnavailable", "Directive", "I2XError", "Outbox", "Publisher", "drain"]
