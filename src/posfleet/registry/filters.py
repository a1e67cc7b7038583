"""Which merchants and terminals a list shows: the query parameters of the API's lists and of the
console's, turned into querysets in one place.

The two search boxes differ on purpose. The API's `q` is a lookup for scripts that stays on the
indexes at a million rows: a TID prefix or an exact SN; a merchant's name, or a phone or licence number
prefix. The console's is a search for people: a TID prefix or an exact SN, a merchant's or model's name, a
merchant's id or contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from posfleet.core.errors import ValidationFailed
from posfleet.core.filters import filter_given
from posfleet.registry.models import Merchant, Terminal, TerminalModel

NAME_MATCH_LIMIT = 500  # merchants/models a console search may expand to
TID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_choice(field: str, value: str | None, allowed: list[str]) -> None:
    """A query parameter with a fixed set of values: anything else is a ValidationFailed naming them."""
    if value is not None and value not in allowed:
        raise ValidationFailed(
            _("Unknown %(field)s %(value)s.") % {"field": field, "value": value}, details={field: allowed}
        )


# --- merchants ----------------------------------------------------------------------------------------
def merchant_lookup_q(text: str) -> Q:
    """The API's `q`: name contains, phone or licence number starts with."""
    return Q(name__icontains=text) | Q(phone__startswith=text) | Q(licence_no__startswith=text.upper())


def merchant_search_q(text: str) -> Q:
    """The console's search: name or contact contains, phone or licence number exactly, or the id."""
    cond = Q(name__icontains=text) | Q(contact_name__icontains=text) | Q(phone=text) | Q(licence_no=text)
    if text.isdigit():
        cond |= Q(pk=int(text))
    return cond


def filter_merchants(
    qs: QuerySet[Merchant], *, state: str = "", lookup: str = "", search: str = ""
) -> QuerySet[Merchant]:
    if state:
        qs = qs.filter(state=state)
    if lookup.strip():
        qs = qs.filter(merchant_lookup_q(lookup.strip()))
    if search.strip():
        qs = qs.filter(merchant_search_q(search.strip()))
    return qs


# --- terminals ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TerminalFilters:
    state: str = ""
    merchant_id: int | None = None
    model_id: int | None = None
    model: str = ""  # a model's name (the API names models, the console picks one)
    lookup: str = ""  # the API's `q`
    search: str = ""  # the console's search


def tid_prefix_q(prefix: str) -> Q:
    """TIDs starting with `prefix`, as a range on the unique index (a LIKE may not use it on PostgreSQL
    with a non-C collation). TIDs are [0-9A-Z], which sort the same way in every collation."""
    if not prefix or len(prefix) > 8 or any(ch not in TID_ALPHABET for ch in prefix):
        return Q(pk__in=[])
    stem = prefix.rstrip("Z")
    if not stem:  # "ZZ…": no upper bound
        return Q(tid__gte=prefix)
    upper = stem[:-1] + TID_ALPHABET[TID_ALPHABET.index(stem[-1]) + 1]
    return Q(tid__gte=prefix, tid__lt=upper)


def terminal_lookup_q(text: str) -> Q:
    """The API's `q`: a TID prefix or an exact SN."""
    return tid_prefix_q(text.upper()) | Q(sn=text)


def terminal_search_q(text: str) -> Q:
    """The console's search: a TID prefix, an SN exactly, or a merchant or model whose name contains the text.
    Names are resolved first against the small tables, so the terminal query only uses indexed
    equality and IN conditions."""
    cond = tid_prefix_q(text.upper()) | Q(sn=text) | Q(sn=text.upper())
    # Unordered, so that PostgreSQL takes the matches from the name's trigram index (an ORDER BY id
    # made it walk the primary key through every merchant when few match); sorted here.
    merchant_ids = sorted(
        Merchant.objects.filter(name__icontains=text)
        .order_by()
        .values_list("id", flat=True)[:NAME_MATCH_LIMIT]
    )
    if text.isdigit():
        merchant_ids.append(int(text))
    if merchant_ids:
        cond |= Q(merchant_id__in=merchant_ids)
    model_ids = list(
        TerminalModel.objects.filter(Q(name__icontains=text) | Q(manufacturer__icontains=text)).values_list(
            "id", flat=True
        )[:NAME_MATCH_LIMIT]
    )
    if model_ids:
        cond |= Q(model_id__in=model_ids)
    return cond


def filter_terminals(qs: QuerySet[Terminal], f: TerminalFilters) -> QuerySet[Terminal]:
    qs = filter_given(qs, state=f.state, merchant_id=f.merchant_id, model_id=f.model_id, model__name=f.model)
    if f.lookup.strip():
        qs = qs.filter(terminal_lookup_q(f.lookup.strip()))
    if f.search.strip():
        qs = qs.filter(terminal_search_q(f.search.strip()))
    return qs
