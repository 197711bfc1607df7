"""tiktok-ads-sync: the library the Lambda functions share (the layer's package)."""

__version__ = "0.1.0"
