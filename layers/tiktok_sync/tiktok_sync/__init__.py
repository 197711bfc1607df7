"""tiktok-ads-sync: the library the Lambda functions share (the layer's package)."""

__version__ = "0.1.0"

import logging

# The package's parent logger: modules log to children of it (tiktok_sync.tiktok.client, …), and the
# Lambda handlers hand it Powertools' JSON handler (copy_config_to_registered_loggers).
logging.getLogger(__name__).addHandler(logging.NullHandler())
