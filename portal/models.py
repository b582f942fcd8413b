"""Imports every model module, so the metadata is complete wherever it is used."""
from portal.account.models import *  # noqa: F401,F403
from portal.audit import AuditEvent  # noqa: F401
from portal.auth.models import *  # noqa: F401,F403
from portal.consents.models import *  # noqa: F401,F403
from portal.customers.models import *  # noqa: F401,F403
from portal.mail import OutboxMessage  # noqa: F401
from portal.people.models import *  # noqa: F401,F403
from portal.termination.models import *  # noqa: F401,F403
from portal.customers.totals import CustomerRecordingTotals  # noqa: F401,E402
from portal.customers.fingerprints import CustomerImportFingerprint  # noqa: F401,E402
from portal import indexes  # noqa: F401,E402  (hot-path indexes on the tables above)
from portal.observability.models import JobRun  # noqa: F401
from portal.dsar.models import *  # noqa: F401,F403,E402
from portal.staff import indexes as staff_indexes  # noqa: F401,E402  (the staff console's indexes join their tables)
