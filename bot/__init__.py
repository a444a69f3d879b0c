"""Sechs-Cluster-Bot: the six-cluster model of Mass Customization strategy in a Telegram group."""
