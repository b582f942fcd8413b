"""Data-subject requests (GDPR art. 15-21): what a customer asks that the self-service pages do not
offer, tracked as a case with the one-month deadline of art. 12(3)."""
