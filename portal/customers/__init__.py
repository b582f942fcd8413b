"""The records every domain builds on: the customer, their contract, rooms and recordings."""
