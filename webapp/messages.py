"""Domain refusals in the reader's language: a :class:`graph.errors.DomainError` carries a code and params;
this catalogue words it at the edge (web pages, JSON, CLI). Every missing-or-hidden object shares ONE
wording, so the answer never tells whether something exists."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from graph.errors import DomainError, ObjectMissing
from ingest.reasons import DETAIL, parse_params

NOT_FOUND = _l("Nothing here: this page does not exist, or you may not see it.")
_KINDS = {"department": _l("department"), "project": _l("project"), "position": _l("position"),
          "person": _l("person")}

MESSAGES: dict[str, Any] = {
    "document.read_only": _l("You can read this document but not change it."),
    "document.owner_only": _l("Only the owner or an administrator can do this."),
    "document.conflict": _l("Nothing was saved: the document was changed since you opened it (your revision "
                            "%(expected)s, now %(current)s). Reload it, reapply your edit and save again."),
    "document.classification": _l("The business domain or access level is not valid."),
    "share.unknown_target": _l("There is nothing to share with under “%(ref)s”."),
    "share.malformed": _l("Choose what to share with and give its code or user name."),
    "share.level_excludes": _l("At this access level the document cannot be shared with a whole %(kind)s: share "
                               "with named people, or lower the access level."),
    "comment.empty": _l("The comment is empty."),
    "comment.too_long": _l("The comment is longer than %(max)s characters."),
    "upload.mismatched": _l("%(filename)s: the content does not match the file name."),
    "upload.unsupported": _l("%(filename)s: this type of file cannot be stored."),
    "upload.too_large": _l("%(filename)s is larger than the upload limit; nothing was stored."),
    "upload.invalid": _l("%(filename)s could not be stored."),
    "version.not_extracted": _l("Version %(number)s has not been extracted yet."),
    "version.stale_base": _l("Version %(current)s became current after you started from version %(base)s. Your file "
                             "%(filename)s is kept: add it as a newer version anyway, or cancel."),
    "upload.base_version": _l("The base version must be a version number."),
    "trash.not_trashed": _l("This document is not in the trash."),
    "trash.already": _l("This document is already in the trash."),
    "trash.admin_only": _l("Only an administrator can do this."),
    "browse.sort": _l("Unknown sort order."),
    "analytics.managers_only": _l("These views are for managers and administrators."),
    "analytics.unknown_workflow": _l("There is no workflow “%(key)s”."),
    "analytics.department": _l("This department is not among those you may see, or it does not exist."),
    "analytics.date": _l("Dates are written YYYY-MM-DD."),
    "analytics.date_order": _l("The start date comes after the end date."),
    "analytics.period": _l("The period is a week or a month."),
    "analytics.periods": _l("Between 1 and %(max)s periods."),
    "analytics.path_ends": _l("Choose two departments."),
    "analytics.export": _l("There is no such export."),
    "picker.unknown_kind": _l("There is nothing to choose from under “%(kind)s”."),
    "notification.unknown_kind": _l("Unknown kind of notification: %(kind)s."),
    "api.invalid_field": _l("The value of “%(field)s” is not valid."),
    "api.json_body": _l("Send a JSON object as the request body."),
    "token.scope": _l("The scope must be read, write or admin."),
    "token.days": _l("A token lasts between 1 and %(max)s days."),
    "access_request.too_many": _l("You asked for access many times in a short while; please wait a little "
                                  "before asking again."),
    "inbox.bad_tab": _l("Unknown inbox tab: %(value)s."),
    "reminders.scheduler_only": _l("Only the scheduler or an administrator can run the reminder scan."),
    "org.import_not_clean": _l("The files do not import cleanly (%(problems)s problem(s)); nothing was written."),
    # Bulk ingestion: why a member of an archive (or a whole job) failed (codes of ingest.reasons).
    "ingest.path_nul": _l("The name contains a NUL character; the file was refused."),
    "ingest.path_absolute": _l("The path is absolute; the file was refused."),
    "ingest.path_climbs": _l("The path climbs out of the archive (..); the file was refused."),
    "ingest.path_empty": _l("The name is empty."),
    "ingest.source_missing": _l("%(name)s is neither a folder nor a file."),
    "ingest.not_archive": _l("%(name)s is not a zip or tar archive (tar.gz, tgz, tar.bz2, tar.xz) nor a folder."),
    "ingest.too_many_files": _l("The archive holds %(files)s entries; with the rest that is over the limit of "
                                "%(limit)s files."),
    "ingest.archive_too_large": _l("The archive would unpack to %(size)s; with the rest that is over the limit of "
                                   "%(limit)s."),
    "ingest.file_limit": _l("Over the limit of %(limit)s files."),
    "ingest.too_large": _l("The file (%(size)s) is larger than the per-file limit of %(limit)s."),
    "ingest.total_limit": _l("The archive unpacks to more than the limit of %(limit)s."),
    "ingest.ratio": _l("The compression ratio %(ratio)s:1 is over the limit of %(limit)s:1 (possibly a zip bomb); "
                       "not unpacked."),
    "ingest.link_folder": _l("A symbolic link to a folder; not followed."),
    "ingest.link_outside": _l("A symbolic link pointing outside the folder; not followed."),
    "ingest.link_inside": _l("A link inside the archive; not followed."),
    "ingest.not_regular": _l("Not a regular file (a device, a pipe…); skipped."),
    "ingest.unreadable": _l("The file could not be read."),
    "ingest.too_deep": _l("An archive nested deeper than %(limit)s levels; not unpacked."),
    "ingest.nested_too_large": _l("A nested archive larger than what is left of the %(limit)s limit."),
    "ingest.nested_unreadable": _l("The nested archive could not be read."),
    "ingest.nested_longer": _l("The nested archive is longer than its declared size; refused."),
    "ingest.not_that_archive": _l("Named like a %(format)s archive, but it is not one."),
    "ingest.over_limits": _l("The archive is over the limits; not unpacked."),
    "ingest.over_limits_after": _l("The archive went over the limits after %(seen)s entries; the rest is not "
                                   "unpacked."),
    "ingest.damaged": _l("The archive is damaged."),
    "ingest.damaged_after": _l("The archive is damaged after %(seen)s entries."),
    "ingest.encrypted_member": _l("The file is encrypted (password-protected) and cannot be read."),
    "ingest.duplicate_path": _l("The archive holds this path more than once; only the first copy is ingested."),
    "ingest.over_size_limit": _l("The file is larger than the upload limit of %(limit)s."),
    "ingest.store_failed": _l("The file could not be stored."),
    "ingest.missing_bytes": _l("The stored bytes of this file are missing."),
    "ingest.document_vanished": _l("The document was removed while it was being ingested."),
    "ingest.failed": _l("The file could not be ingested."),
    "ingest.unknown_person": _l("The user is not a known, active person."),
    "ingest.source_name": _l("The source needs a name."),
}


def message(error: DomainError) -> str:
    """The refusal as one sentence for the reader."""
    if isinstance(error, ObjectMissing):
        return str(NOT_FOUND)
    text = MESSAGES.get(error.code)
    if text is None:
        return _("The request was refused.")
    params = {k: str(v) for k, v in error.params.items()}
    if "kind" in params:
        params["kind"] = str(_KINDS.get(params["kind"], params["kind"]))
    try:
        return str(text) % params
    except (KeyError, ValueError, TypeError):
        return str(text)


def stored_message(code: str | None, params: object, text: str | None) -> Markup:
    """A refusal kept in a record (code, parameters as JSON or a map, the sentence written then) in the reader's
    words; the technical ``detail`` follows as it is (not translated). A record without a known code (written
    before codes existed) is shown as it was stored."""
    if not code or code not in MESSAGES:
        return escape(text or "")
    values = parse_params(params)
    detail = values.pop(DETAIL, None)
    said = escape(message(DomainError(code, **values)))
    if detail:
        said += Markup(' <span class="reason-detail" translate="no">%s</span>') % str(detail)
    return said


def cli_message(error: DomainError) -> str:
    """The refusal for a command line (English, the CLI's language), with the technical detail when known."""
    from flask import Flask
    from flask_babel import force_locale

    from webapp.i18n import babel

    app = Flask(__name__)
    babel.init_app(app)
    if isinstance(error, ObjectMissing):
        return "not found: no such object, or you may not see it"
    with app.app_context(), force_locale("en"):
        text = message(error)
    reason = error.params.get("reason")
    return f"{text} ({reason})" if reason else text
