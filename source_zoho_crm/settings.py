"""Zoho CRM's quirks and limits in one table: each value with the reason it has to be so.

The code reads these names from here; a new quirk (a module that needs a parameter, a code Zoho
answers in some org) is a line in this file, not an `if` in a reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

# ---- paths --------------------------------------------------------------------------------------
API_VERSION_PATH = "/crm/v8"

# ---- cursors --------------------------------------------------------------------------------------
# Cursor candidates in order of preference; a module with none of them is full refresh only.
CURSOR_CANDIDATES = ("Modified_Time", "Created_Time", "Action_Performed_Time")
# `sort_by` accepts only these; a cursor outside them is read in id order and checkpointed at the end.
SORTABLE_FIELDS = ("id", "Created_Time", "Modified_Time")
# Airbyte's CDC column: a deduplicating destination deletes the row that carries it.
DELETED_AT = "_ab_cdc_deleted_at"

# ---- paging of module records -----------------------------------------------------------------
# Zoho's largest page for the records API.
PAGE_SIZE = 200
# `ids=` takes at most 100 ids per request (the other field chunks of a page are fetched by id).
IDS_PER_REQUEST = 100
# A page-token chain ends at 100,000 records; a new chain starts where the last one ended.
CHAIN_LIMIT = 100_000
# A read in id order of a module Zoho counts above this many pages follows two chains at once, one
# from each end (`sort_order` asc and desc), until they meet: half the round trips, one page more.
TWO_WAY_CHAIN_ABOVE_PAGES = 10
# `fields=` takes at most 50 field API names per request.
MAX_FIELDS_PER_REQUEST = 50
# Codes that end a page-token chain (limit reached, token expired): the read goes on with a new chain.
CHAIN_ENDED_CODES = ("PAGINATION_LIMIT_EXCEEDED", "EXPIRED_VALUE")
# Per-module request parameters. Leads: converted leads are hidden unless asked for, and a CRM
# extract wants the whole funnel.
# Fields whose metadata type disagrees with their record value: `Wizard` is `bigint` in /settings/fields
# but `{"id", "name"}` in records (the v8 OAS record schema); they get the lookup object's schema.
OBJECT_VALUED_FIELDS = ("Wizard",)
# The only cursor If-Modified-Since is documented to filter on (and `sort_by` accepts).
MODIFIED_TIME = "Modified_Time"
MODULE_REQUEST_PARAMS: Mapping[str, Mapping[str, str]] = {"Leads": {"converted": "both"}}

# ---- Bulk Read and credits --------------------------------------------------------------------------
# First syncs and full refreshes of modules with at least this many records (Zoho's count API) use
# Bulk Read (config `bulk_read_threshold`; 0 turns it off): one job page exports 200,000 records for
# a few credits, where REST spends one credit per 200 records per 50 fields.
DEFAULT_BULK_READ_THRESHOLD = 200_000

# ---- COQL ---------------------------------------------------------------------------------------------
# `POST /crm/v8/coql` (scope ZohoCRM.coql.READ): 2,000 rows a call for 3 credits [U for CRM], where REST
# spends 10 credits per 2,000 records per 50-field chunk; keyset paging on (Modified_Time, id) has no
# 100,000-record ceiling (COQL-Limitations page). Columns: 500 since v7 (Kaizen #183); JOINs 15, formula
# fields 5 (COQL-Limitations).
COQL_PATH = f"{API_VERSION_PATH}/coql"
COQL_ROWS = 2000
# An incremental read's first call: 200 rows cost 1 credit (1,000 cost 2, 2,000 cost 3).
COQL_FIRST_ROWS = 200
COQL_MAX_COLUMNS = 500
COQL_MAX_JOINS = 15
COQL_MAX_FORMULA_COLUMNS = 5
# Field types whose COQL value is the REST list GET's (lookups rebuilt by coql_query.py). Others (file and
# image uploads, subforms, multi-select lookups, line items, layouts, consent and multi-module lookups,
# reminders, territories...) keep their module on REST.
COQL_SAME_AS_REST_TYPES = frozenset(
    {
        "text", "textarea", "email", "phone", "website", "picklist", "multiselectpicklist", "integer",
        "bigint", "double", "decimal", "currency", "percent", "boolean", "date", "datetime", "autonumber",
        "formula", "rollup_summary", "lookup", "ownerlookup", "userlookup",
    }
)  # fmt: skip
# The modules COQL serves (Get-Records-through-COQL-Query page, "Possible module names"), besides custom ones.
COQL_MODULES = (
    "Leads", "Accounts", "Contacts", "Deals", "Campaigns", "Tasks", "Cases", "Events", "Calls", "Solutions",
    "Products", "Vendors", "Price_Books", "Quotes", "Sales_Orders", "Purchase_Orders", "Invoices",
)  # fmt: skip
COQL_MODULE_KINDS = ("custom",)
# Answers that mean "COQL will not serve this query or token": the module is read over REST instead.
COQL_REFUSED_CODES = (
    "OAUTH_SCOPE_MISMATCH",
    "NO_PERMISSION",
    "LIMIT_EXCEEDED",
    "INVALID_QUERY",
    "SYNTAX_ERROR",
    "NOT_SUPPORTED",
    "FEATURE_NOT_SUPPORTED",
    "INVALID_MODULE",
    "DUPLICATE_DATA",
)

# ---- deleted records --------------------------------------------------------------------------
# The deleted-records API pages with `page` only, 200 entries a page.
DELETED_PAGE_SIZE = 200
# ...and stops at 2,000 entries with this code.
DELETED_PAGE_WALL_CODES = ("DISCRETE_PAGINATION_LIMIT_EXCEEDED",)
# Answers that mean "this token or module has no deleted-records log to read" (Zoho wraps some of them in
# `{"data": [...]}`): the module's tombstones end with a warning, its records are kept.
DELETED_REFUSED_CODES = (
    "AUTHORIZATION_FAILED",
    "NO_PERMISSION",
    "OAUTH_SCOPE_MISMATCH",
    "INVALID_MODULE",
    "NOT_SUPPORTED",
    "FEATURE_NOT_SUPPORTED",
)
# Zoho keeps deleted records in the recycle bin for 60 days; older deletions leave its log.
DELETED_RETENTION = timedelta(days=60)
# Tombstoned ids checked each sync for a restore from the recycle bin (100 per call): at most this many
# per stream, the newest deletions first; a restore of an older one shows when the record next changes.
RESTORE_WATCH_LIMIT = 1000

# ---- module kinds (`generated_type` in /settings/modules) ----------------------------------------------
# Which kinds become streams (BEHAVIOR.md, "Module kinds"). Every other api_supported kind (default,
# custom, linking, field_tracker, picklisttracker, `__s` system modules, `viewable: false` ones) is a
# module stream; refusals are found per module and leave it out with a warning.
# Subform modules hold the lines of a parent's subform field: child streams `<module>_<field>`.
CHILD_MODULE_KINDS = ("subform", "static_subform")
# Web tabs are links to web pages, not records.
NO_STREAM_MODULE_KINDS = ("web", "webtab", "webtab_link")

# ---- subform lines (child streams) ----------------------------------------------------------------
# Zoho sends subform, line-item, multi-select and multi-user lookup values only on `GET /{module}/{id}`.
# Subform modules may refuse page tokens (the worst reading of the Subform API): paging goes on with
# `page`, which stops at 2,000 records (this code); the rest comes from the parents' single-record GETs.
PAGE_TOKEN_REFUSED_CODES = ("INVALID_DATA",)
DISCRETE_PAGE_WALL_CODES = ("DISCRETE_PAGINATION_LIMIT_EXCEEDED",)
# `page` reaches at most this many records (page x per_page); subform modules are read by `page` only,
# in windows that overlap by a line (line_windows.py), since Zoho may page them by position.
DISCRETE_PAGE_LIMIT = 2000
# Passes over a subform module restarted because lines moved under its `page` windows, before the
# rest of its lines come from the parents instead.
MAX_MOVED_PASSES = 5
# Keys naming a subform field's module, Zoho's real shape first (`"subform": null`), then older ones.
SUBFORM_MODULE_KEYS = (
    ("associated_module", "module"),
    ("associated_module", "api_name"),
    ("subform", "module"),
)
# Keys naming the linking module of a multi-select / multi-user lookup field (v7 field meta, v8 SDK).
LINKING_MODULE_KEYS = (
    ("linking_details", "module"),
    ("multiselectlookup", "linking_module"),
    ("multiuserlookup", "linking_module"),
)

# ---- rich text ------------------------------------------------------------------------------------
# List GETs cut rich-text values to 500 characters; `actions/fetch_full_data` takes up to 200 ids.
RICH_TEXT_IDS_PER_REQUEST = 200
RICH_TEXT_LIST_LIMIT = 500
# Only values of at least RICH_TEXT_LIST_LIMIT - RICH_TEXT_CUT_MARGIN UTF-8 bytes are fetched whole: if
# Zoho counted UTF-16 units or UTF-8 bytes, a cut value is shorter than 500 characters but never more
# than a partial character (3 bytes) or a dropped HTML entity (`&#x1F600;`, 10) under 500 bytes.
RICH_TEXT_CUT_MARGIN = 16

# ---- metadata -------------------------------------------------------------------------------------
# What Zoho answers for /settings/territories when territory management is off.
TERRITORIES_OFF_CODES = (
    "TERRITORY_NOT_ENABLED",
    "FEATURE_NOT_ENABLED",
    "FEATURE_NOT_SUPPORTED",
    "NOT_ALLOWED",
)
# /users pages with `page`/`per_page`, at most 200 a page; `type=AllUsers` includes inactive users.
USERS_PAGE_SIZE = 200
USERS_TYPE = "AllUsers"
# Layouts, custom views and tags are read for these module kinds only: Zoho's custom-view and tag pages list
# its own modules and custom modules; linking, tracker and system modules would each cost a refused call.
SETTINGS_MODULE_KINDS = ("default", "custom")
# Pipelines live in the layouts of this module (`/settings/pipeline?layout_id=`, the layout id mandatory).
PIPELINE_MODULE = "Deals"
# /settings/custom_views pages with `page`/`per_page`; Zoho documents no largest page, 200 is asked for.
CUSTOM_VIEWS_PAGE_SIZE = 200
# Answers that mean "this module has no such settings for this token": that module is left out with a warning.
SETTINGS_REFUSED_CODES = ("NOT_SUPPORTED", "FEATURE_NOT_SUPPORTED", "FEATURE_NOT_ENABLED", "NOT_ALLOWED")

# ---- HTTP -------------------------------------------------------------------------------------------
# Zoho's empty answers: 204 (no records) and 304 (nothing modified since If-Modified-Since).
EMPTY_STATUSES = (204, 304)
# A 401 with these codes means the access token expired or was revoked: refresh once and retry.
TOKEN_REJECTED_CODES = ("INVALID_TOKEN", "AUTHENTICATION_FAILURE")
# The token lacks a scope, or the user's profile lacks a permission: that stream is skipped.
SCOPE_MISMATCH_CODE = "OAUTH_SCOPE_MISMATCH"
# 400 AUTHORIZATION_FAILED ("User does not have sufficient privilege") is a permission refusal too.
ACCESS_DENIED_CODES = (SCOPE_MISMATCH_CODE, "NO_PERMISSION", "AUTHORIZATION_FAILED")
# Zoho's answer for a module that is not (or no longer) API-supported.
INVALID_MODULE_CODE = "INVALID_MODULE"
# Attempts per request for 429, 5xx, timeouts, dropped connections and truncated bodies
# (env ZOHO_CRM_MAX_ATTEMPTS), the first backoff (env ZOHO_CRM_BACKOFF_BASE_SECONDS), doubled per
# attempt up to the cap (Zoho's concurrency throttle clears within seconds).
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
# Connect and read timeouts: a 200-record page of a wide module can take a while to serialise.
REQUEST_TIMEOUT_SECONDS = (10.0, 120.0)
# Concurrent requests when the config sets none and the edition is not known yet (Free's limit).
DEFAULT_MAX_CONCURRENT = 5

# ---- formula and rollup freshness (formula_refresh.py) ----------------------------------------------
# Field `data_type`s whose values Zoho recomputes without changing Modified_Time (formulas, also
# time-based ones Zoho re-evaluates on its own schedule; rollup summaries when child records change).
FORMULA_DATA_TYPES = frozenset({"formula", "rollup_summary"})
# A refresh is due after `formula_refresh_days` less this, so syncs started minutes apart on a daily
# schedule refresh daily rather than every other day.
FORMULA_REFRESH_SLACK = timedelta(hours=1)
# Per-record related lists: an error code a parent answers when it was deleted after being listed
# (get-related-records: "the related id given seems to be invalid"); that parent is skipped.
RELATED_PARENT_GONE_CODES = ("INVALID_DATA",)
