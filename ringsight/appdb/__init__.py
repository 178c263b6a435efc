"""The relational application database (identity vault; accounts, sessions and audit trail)."""
