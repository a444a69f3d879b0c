"""The six-cluster model: catalogue and board rules. Pure Python; never imports telegram."""
