"""``zoho-crm-auth``: get a Zoho refresh token and write a ready connector config.

Subcommands:

* ``self-client``: exchange a grant code made with the Self Client of the Zoho API console.
* ``browser``: open Zoho's consent page and catch the redirect on http://localhost:<port>/callback
  (or, with ``--paste``, read the redirect address pasted on stdin, for machines without a browser).
* ``revoke``: revoke a refresh token.

Every failure is one line on stderr and exit code 2. No secret (client secret, grant code,
access or refresh token) is ever printed: the config file, written with mode 0600, is the only
place they go. Modules by job: ``cli`` (arguments, entry point), ``commands`` (the subcommands),
``scrub`` (secret scrubbing), ``config_file`` (the config written), ``oauth`` (the HTTP exchange),
``callback`` (the loopback redirect server).
"""

from __future__ import annotations

from source_zoho_crm.credentials.callback import parse_redirect
from source_zoho_crm.credentials.cli import main
from source_zoho_crm.credentials.oauth import consent_url, dc_for_accounts_server
from source_zoho_crm.credentials.scrub import CliError

__all__ = ["CliError", "consent_url", "dc_for_accounts_server", "main", "parse_redirect"]
