"""Every user-facing message of the HTTP client, the source, the metadata and the readers.

Templates use `str.format` fields (`{what}`); the code formats them from here and
unit_tests/test_docs.py checks that the docs page's Troubleshooting section quotes each one.
Messages of auth.py, config.py and credentials_cli.py are still in those files.
"""

from __future__ import annotations

# ---- api_client.py: one GET -----------------------------------------------------------------------
FAILED_AFTER_RETRIES = "Reading {what} failed after {attempts} attempts ({reason}): {request}"
RETRYING = "Retrying {request} in {delay:.1f} s after {reason} (attempt {attempt} of {attempts})."
TOKEN_REJECTED_AFTER_REFRESH = (
    "Zoho rejected a freshly issued access token while reading {what}: "
    "check that the refresh token belongs to this data centre and environment."
)
SCOPE_MISSING = (
    "The Zoho token lacks the OAuth scope needed to read {what} (OAUTH_SCOPE_MISMATCH). "
    "Generate a refresh token with the scopes listed in the README."
)
NO_PERMISSION = (
    "The Zoho user's profile has no permission to read {what} ({code}). "
    "Grant the profile read access in Zoho CRM, or leave it out of `modules`."
)
INVALID_MODULE = "Zoho says {what} is not a valid, API-supported module (INVALID_MODULE)."
HTTP_ERROR = "Zoho answered HTTP {status} {code} while reading {what}: {message} ({request})"
# Transient reasons, shown in FAILED_AFTER_RETRIES and RETRYING.
TRUNCATED_RESPONSE = "a truncated response"
UNREADABLE_BODY = "a truncated or unreadable response body"
UNREADABLE_ERROR_BODY = "HTTP {status} with an unreadable body"

# ---- source.py: check and concurrency ----------------------------------------------------------
SCOPE_MISSING_IN_CHECK = "The refresh token lacks the scope {scope}: {message}"
NO_MODULES = "The org has no API-supported modules to read (check `modules`)."
INVALID_CONFIG = "Invalid configuration: {message}"
EDITION_UNKNOWN = "Using 5 concurrent requests: {message}"
OPTIONAL_SCOPES_MISSING = (
    "The refresh token lacks optional scopes, which disables: {missing}. The other streams work; to read "
    "these too, make a new refresh token with the scopes of the docs' Scopes section."
)
SCOPES_UNVERIFIED = "Optional scopes not verified: {scopes} (the scope probes cost {credits} API credits)."

# ---- metadata.py ---------------------------------------------------------------------------------
NO_TERRITORIES = "No territories: the org does not use territory management ({code})."
NO_MODULES_LIST = "Zoho's /settings/modules answer has no `modules` list."
NO_FIELDS_LIST = "Zoho's /settings/fields answer for module {module} has no `fields` list."
UNKNOWN_MODULES = (
    "`modules` names {missing}, which the org does not have as API-supported modules. Available: {available}."
)
MODULE_LEFT_OUT = "Leaving out module {module}: {message}"
FIELDS_EMPTY = (
    "Zoho sent no field metadata for module {module} (HTTP {status}): it cannot be read through the API."
)
SUBFORM_WITHOUT_FIELDS = (
    "Subform {subform} of {module}: no field metadata ({message}); its lines get an open schema "
    "and are read from the {module} records one by one."
)

# ---- metadata_streams.py and module_stream.py ----------------------------------------------------
STREAM_SKIPPED = "Skipping stream {stream}: {message}"
MODULE_FIELDS_LEFT_OUT = "Fields of module {module} left out: {message}"
MODULE_DELETIONS_LEFT_OUT = "Deleted records of {module} left out: {message}"
SETTINGS_MODULE_LEFT_OUT = "Stream {stream}: module {module} left out: {message}"

# ---- module_reader.py ------------------------------------------------------------------------------
DENSE_SECOND_KEPT_MOVING = (
    "Records of {what} kept moving while more than {page_size} of them shared {cursor} {instant}; "
    "the read stopped rather than risk missing some. Retry the sync."
)
NO_SORTABLE_CURSOR = (
    "Module {module} has more than {limit:,} records and no {cursor}, "
    "so Zoho's page tokens cannot reach the rest of it."
)
IMS_IGNORED_PAST_CHAIN = (
    "Zoho ignores If-Modified-Since on module {module}, which has more than {limit:,} records, so "
    "neither its page tokens nor Modified_Time order can reach the rest of it."
)
NO_NEXT_PAGE_TOKEN = "Zoho said module {module} has more records but sent no next_page_token."

# ---- chunk_fetch.py ----------------------------------------------------------------------------------
CHUNKS_KEPT_CHANGING = (
    "Records of {what} kept changing while their fields were read in 50-field parts "
    "({count} records, e.g. id {example}); retry the sync."
)

# ---- tombstones.py -----------------------------------------------------------------------------------
DELETED_LOG_REFUSED = (
    "Stream {stream}: Zoho refused the deleted records of {module} ({reason}); its records were read, but "
    "rows deleted in Zoho stay in the destination until Zoho lets this token read them (deleted_since is "
    "kept, so the next sync catches up)."
)
DELETIONS_PAST_RETENTION = (
    "Stream {stream}: its deletions were last read at {since}, more than {days} days ago, longer than "
    "Zoho keeps deleted records, so some deletions may have been missed. A full refresh of this stream "
    "(reset its data) removes them from the destination."
)

# ---- child_streams.py ------------------------------------------------------------------------------
LINES_FROM_PARENTS = (
    "Stream {stream}: Zoho does not serve module {subform} module-wide ({reason}); reading its lines "
    "with one GET /{module}/{{id}} per {module} record{since}: one API call per parent record."
)
LINES_PAST_PAGE_WALL = "page-only paging stops at 2,000 lines"
LINES_KEPT_MOVING = "its lines kept moving while they were paged"
LINKED_VALUES = (
    "Zoho sends these values only when one record is read (GET /{{module}}/{{id}}), so list reads leave "
    "this column empty: the values are the rows of stream {stream} (linking module {linking})."
)
SUBFORM_VALUES = (
    "Zoho sends the lines only when one record is read, so list reads leave this column empty: "
    "the lines are the rows of stream {stream}."
)

# ---- rich_text.py ----------------------------------------------------------------------------------
RICH_TEXT_CUT = (
    "Rich-text fields of module {module} stay cut to 500 characters (as Zoho lists them): {message}"
)

# ---- deleted_records.py ----------------------------------------------------------------------------
DELETIONS_PAST_WALL_AUDIT = (
    "Module {module} has more than 2,000 deleted records {window}; Zoho's deleted-records API lists "
    "only 2,000, so the older ones are not in deleted_records."
)
DELETIONS_PAST_WALL = (
    "More than 2,000 records of {module} were deleted {window}; Zoho's deleted-records API lists only "
    "2,000, so some tombstones would be missing. Run a full refresh of this module's stream (it has no "
    "deleted rows) and incremental syncs go on from there."
)

# ---- coql_reader.py --------------------------------------------------------------------------------
COQL_USED = "Reading module {module} with COQL ({rows} records a call, keyset on Modified_Time and id)."
COQL_NOT_USED = "Reading module {module} over REST: COQL cannot give the same records ({reason})."
COQL_FELL_BACK = (
    "Zoho refused COQL for module {module} ({reason}); reading the rest of it over REST from the last "
    "record read, so none is lost."
)
COQL_SCOPE_MISSING = (
    "Add the ZohoCRM.coql.READ scope to the refresh token: COQL reads 2,000 records for 3 API credits, "
    "REST 200 records per 50 fields for 1."
)


# ---- formula_refresh.py ----------------------------------------------------------------------------
FORMULA_REFRESH_START = (
    "Stream {stream}: refreshing formula and rollup values ({fields}; last refreshed {last}, every "
    "{days} days): reading every record again, whole (the cost of a full refresh)."
)
FORMULA_REFRESH_DONE = (
    "Stream {stream}: formula and rollup values refreshed: {records} records emitted again, "
    "{credits} credits."
)
FORMULA_REFRESH_STOPPED = (
    "Stream {stream}: formula refresh stopped after {records} records (credit budget); the next sync "
    "goes on with it."
)

def catalogue() -> dict[str, str]:
    """Every template of this module by name."""
    return {name: value for name, value in globals().items() if name.isupper() and isinstance(value, str)}

# ---- related_reader.py and related_streams.py: per-record streams ----------------------------------
RELATED_PARENTS_GONE = (
    "Stream {stream}: Zoho answered INVALID_DATA for {count} of {parents} {module} records asking their "
    "{related} (records deleted after they were listed, or the list is not available for them); "
    "they are skipped."
)
RELATED_COST = (
    "Stream {stream}: visited {parents} {module} records{which} with {calls} {related} calls "
    "(one API call per parent record, plus {listing} to list them)."
)
RELATED_UNKNOWN_PARENT = (
    "`per_record_streams` names {stream}, but module stream {parent} is not in this org's selected "
    "API-supported modules; it is left out."
)
