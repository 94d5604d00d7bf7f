"""The kinds of file an import reads and an export writes, and their columns."""

from fintrack.vocab import FileKind

Kind = FileKind  # the one list of them is fintrack.vocab's

# Columns an import needs; the others of the export are optional, and these are derived
# from other records, so an import ignores them: export writes them for people to read.
REQUIRED = {
    Kind.SANCTIONS: ("authority", "target", "action"),
    Kind.PLEDGES: ("donor", "recipient", "currency", "pledged"),
    Kind.INSTALLMENTS: ("pledge_ref", "seq", "due", "amount"),
    Kind.DISBURSEMENTS: ("pledge_ref", "installment", "paid_on", "amount"),
    Kind.RATES: ("base", "quote", "on", "rate"),
    Kind.SOURCES: (),  # but a url or a title column: see ONE_OF
    Kind.LINKS: ("kind", "record", "source", "confidence"),
}
# Kinds whose files need at least one of these columns.
ONE_OF = {Kind.SOURCES: ("url", "title")}
DERIVED = {
    Kind.SANCTIONS: ("id",),
    Kind.PLEDGES: ("id", "disbursed", "outstanding", "fulfilled_pct", "replaced_by"),
    Kind.INSTALLMENTS: ("pledge_id", "paid", "outstanding", "state"),
    Kind.DISBURSEMENTS: ("id", "pledge_id"),
    Kind.RATES: (),
    Kind.SOURCES: (),
    Kind.LINKS: (),
}
# The kinds of record a links file names, and the column of source_links naming each.
# Claims have no file of their own yet, so their links are neither exported nor imported.
LINK_KINDS = {"sanction": "sanction_id", "pledge": "pledge_id", "payment": "disbursement_id"}
# Kinds whose files had a `source` text column before sources became records (schema 0003).
HAD_SOURCE = (Kind.SANCTIONS, Kind.PLEDGES, Kind.DISBURSEMENTS)
