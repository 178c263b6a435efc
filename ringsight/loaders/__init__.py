"""RingSight loaders."""
