"""What we hold about you: the data registry, the data page, the activity log and the export
(GDPR art. 13-15 and 20; SPEC P3, P7)."""
