"""`flask portal import`: the customer base from MCX's order system (SPEC P2, "Import format")."""
