"""The destinations file, column presets and TikTok's vocabularies: what a run is configured with."""
