"""RingSight cases."""
