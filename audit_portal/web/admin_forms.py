"""WTForms for the administrator's pages: organisations, intelligence and people."""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import (
    Form,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from audit_portal.models import FLAG_TYPES, Role
from audit_portal.models.organisations import IDENTIFIER_SCHEMES, STATUSES
from audit_portal.vocabulary import DUTY_TYPES, FEATURES, PHASES, SECTORS
from audit_portal.web.date_field import DatePartsField


def choices(mapping: Mapping[str, str], blank: str | None = None) -> list[SelectChoice]:
    items = [SelectChoice(value, label) for value, label in mapping.items()]
    return [SelectChoice("", blank), *items] if blank is not None else items


class OrganisationForm(Form):
    name = StringField(
        "Name", validators=[DataRequired("Enter the organisation's name"), Length(max=200)]
    )
    duty_type = SelectField(
        "Statutory duty",
        choices=choices(DUTY_TYPES),
        description="Decides which questionnaire it is invited to and counts in response rates.",
    )
    sector = SelectField(
        "Sector (partner agencies)", choices=choices(SECTORS, blank="Not a partner agency")
    )
    phase = SelectField("Phase (schools)", choices=choices(PHASES, blank="Not a school"))
    features = SelectMultipleField("Characteristics", choices=choices(FEATURES))
    identifier_scheme = SelectField("Official identifier type", choices=choices(IDENTIFIER_SCHEMES))
    identifier = StringField("Official identifier", validators=[Optional(), Length(max=40)])
    district = StringField("District", validators=[Optional(), Length(max=100)])
    contact_name = StringField("Contact name", validators=[Optional(), Length(max=200)])
    contact_email = StringField(
        "Contact email",
        validators=[
            Optional(),
            Email("Enter an email address in the correct format"),
            Length(max=254),
        ],
    )
    contact_phone = StringField("Contact telephone", validators=[Optional(), Length(max=40)])
    status = SelectField("Status", choices=choices(STATUSES))

    def validate_sector(self, field: SelectField) -> None:
        if self.duty_type.data == "section-11-agency" and not field.data:
            raise ValidationError("Choose the partner agency's sector")

    def validate_identifier(self, field: StringField) -> None:
        if field.data and not self.identifier_scheme.data:
            raise ValidationError("Choose the type of identifier, or leave the identifier blank")


class IntelligenceForm(Form):
    flag = SelectField("Type of intelligence", choices=choices(FLAG_TYPES))
    value = StringField(
        "Value",
        validators=[Optional(), Length(max=200)],
        description="For example the Ofsted judgement: Outstanding, Good, Requires improvement, "
        "Inadequate.",
    )
    source = StringField(
        "Source",
        validators=[DataRequired("Enter where this intelligence came from"), Length(max=200)],
    )
    noted_on = DatePartsField(
        "Date", required="Enter the date of this intelligence", what="the date"
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class InviteForm(Form):
    full_name = StringField(
        "Full name", validators=[DataRequired("Enter the person's full name"), Length(max=200)]
    )
    email = StringField(
        "Email address",
        validators=[
            DataRequired("Enter an email address"),
            Email("Enter an email address in the correct format, like name@example.org"),
            Length(max=254),
        ],
    )
    role = SelectField("Role", choices=[SelectChoice(r.value, r.label) for r in Role])
    organisation_id = SelectField(
        "Organisation (for respondents and signatories)", choices=[], validate_choice=False
    )


class RoleForm(Form):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.label) for r in Role])
    organisation_id = SelectField("Organisation", choices=[], validate_choice=False)


class CampaignForm(Form):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Enter a title, for example ‘Schools safeguarding audit 2026’"),
            Length(max=200),
        ],
    )
    questionnaire = SelectField("Questionnaire", choices=[], validate_choice=True)
    opens_on = DatePartsField(
        "Opens on", required="Enter the date the campaign opens", what="the opening date"
    )
    closes_on = DatePartsField(
        "Closes on", required="Enter the date returns are due", what="the closing date"
    )
    follow_up_months = IntegerField(
        "Follow-up after (months)",
        default=6,
        validators=[NumberRange(1, 24, "Enter a number of months between 1 and 24")],
    )
    duty_types = SelectMultipleField("Statutory duties", choices=choices(DUTY_TYPES))
    sectors = SelectMultipleField("Sectors (partner agencies)", choices=choices(SECTORS))
    phases = SelectMultipleField("Phases (schools)", choices=choices(PHASES))
    features = SelectMultipleField("Characteristics", choices=choices(FEATURES))
    districts = SelectMultipleField("Districts", choices=[], validate_choice=False)
    identifiers = TextAreaField(
        "Or invite exactly these organisations",
        validators=[Optional(), Length(max=20000)],
        description="One URN, Ofsted URN, ODS code or charity number per line. "
        "When you give a list, the choices above are ignored.",
    )
    flags = SelectMultipleField(
        "Only organisations with this intelligence", choices=choices(FLAG_TYPES)
    )

    def validate_closes_on(self, field: DatePartsField) -> None:
        if self.opens_on.data and field.data and field.data <= self.opens_on.data:
            raise ValidationError("The closing date must be after the opening date")
