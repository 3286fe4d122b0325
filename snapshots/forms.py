"""The segment part of a form: "Applies to" and "Region", for message templates and reminder
stages alike."""

import pycountry
from django import forms

from snapshots.segments import GROUP, PRECEDENCE, TRACKING, Segment, TrackingTag
from snapshots.selectors import SegmentChoices


def _countries() -> list[tuple[str, str]]:
    named = [(c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries]
    return sorted(named, key=lambda item: item[1])


def applies_to_value(segment: Segment) -> str:
    """The segment as an "Applies to" choice: "group:<ContactGroupID>", "" for everyone."""
    if segment.tracking_option_id:
        return f"tracking:{segment.tracking_option_id}"
    if segment.contact_group_id:
        return f"group:{segment.contact_group_id}"
    return f"country:{segment.country}" if segment.country else ""


class SegmentFormMixin:
    """Adds "Applies to" (everyone, a contact group, a tracking option or a country) and
    "Region" to a ModelForm of a model with snapshots.segments.SegmentFields, and writes them to
    its segment columns; the model's segment_errors() keeps the last word."""

    def segment_fields_add(self, *, segments: SegmentChoices) -> None:
        """Groups and options are chosen by id; with several organisations each is labelled with
        its own ("Corporate — Kauri Bakery"), while the name kept on the row stays Xero's."""
        segment = self.instance.segment
        group_names = dict(segments.groups)
        options_by_id = {tag.option_id: tag for tag in segments.options}
        # A group or option no longer in Xero stays choosable, so saving keeps the template's.
        if segment.contact_group_id and segment.contact_group_id not in group_names:
            group_names[segment.contact_group_id] = f"{segment.label} (not in Xero now)"
        if segment.tracking_option_id and segment.tracking_option_id not in options_by_id:
            options_by_id[segment.tracking_option_id] = TrackingTag(
                segment.tracking_category_id,
                segment.tracking_option_id,
                f"{segment.label} (not in Xero now)",
            )
        self._segment_groups, self._segment_options = group_names, options_by_id
        self.fields["applies_to"] = forms.ChoiceField(
            label="Applies to",
            required=False,
            initial=self._applies_to_initial(),
            help_text=f"When several apply, the most specific wins: {PRECEDENCE}.",
            choices=[
                ("", "Everyone (the default)"),
                (
                    "Contact groups",
                    [
                        (f"group:{k}", segments.label((GROUP, k), name))
                        for k, name in group_names.items()
                    ],
                ),
                (
                    "Tracking options on the invoice",
                    [
                        (f"tracking:{k}", segments.label((TRACKING, k), tag.label))
                        for k, tag in options_by_id.items()
                    ],
                ),
                ("Countries", [(f"country:{code}", name) for code, name in _countries()]),
            ],
        )
        self.fields["region"] = forms.CharField(
            label="Region",
            required=False,
            max_length=100,
            initial=segment.region,
            help_text="Only with a country: the state or region as written in Xero addresses, "
            "e.g. NSW.",
        )

    def _applies_to_initial(self) -> str:
        return applies_to_value(self.instance.segment)

    def segment_apply(self, cleaned: dict) -> None:
        """Put the chosen segment on the instance (call from clean())."""
        kind, _, value = (cleaned.get("applies_to") or "").partition(":")
        region = (cleaned.get("region") or "").strip()
        option = self._segment_options.get(value) if kind == "tracking" else None
        for name, new in {
            "contact_group_id": value if kind == "group" else "",
            "contact_group_name": self._segment_groups.get(value, "") if kind == "group" else "",
            "tracking_category_id": option.category_id if option else "",
            "tracking_option_id": option.option_id if option else "",
            "tracking_label": option.label if option else "",
            "country": value if kind == "country" else "",
            "region": region if kind == "country" else "",
        }.items():
            setattr(self.instance, name, new)
        if region and kind != "country":
            self.add_error("region", "A region needs a country: choose one in “Applies to”.")

    def _update_errors(self, errors):
        # The model's errors name its segment columns; here they are all "Applies to".
        for name in ("contact_group_id", "tracking_option_id", "tracking_category_id", "country"):
            moved = getattr(errors, "error_dict", {}).pop(name, [])
            if moved:
                errors.error_dict.setdefault("applies_to", []).extend(moved)
        super()._update_errors(errors)
