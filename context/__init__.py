"""What the model sees: syntax trees, context extraction, prompts and post-processing."""
