"""RingSight algorithms."""
