"""``python -m source_zoho_crm.credentials``: the same as ``zoho-crm-auth``."""

from __future__ import annotations

import sys

from source_zoho_crm.credentials.cli import main

sys.exit(main())
