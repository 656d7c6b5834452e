"""Vistter: an unattended 24/7 live-streaming appliance built on supervised actors."""

__version__ = "0.1.0"
