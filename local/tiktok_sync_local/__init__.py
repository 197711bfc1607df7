"""What runs on your machine, not in Lambda: the command line, the TikTok simulator, the AWS emulation."""
