"""RingSight: find and investigate fraud rings in medical-insurance claims."""

__version__ = "0.1.0"
