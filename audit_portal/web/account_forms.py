"""WTForms for signing in and managing one's own account. Messages follow GOV.UK patterns."""

from __future__ import annotations

from wtforms import Form, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional


class SignInForm(Form):
    email = StringField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Length(max=254)],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class CodeForm(Form):
    code = StringField(
        "Security code",
        validators=[DataRequired("Enter the security code"), Length(max=20)],
    )


class EmailForm(Form):
    email = StringField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.org"),
            Length(max=254),
        ],
    )


class NewPasswordForm(Form):
    password = PasswordField("New password", validators=[DataRequired("Enter a new password")])
    confirm = PasswordField(
        "Confirm new password",
        validators=[
            DataRequired("Confirm your new password"),
            EqualTo("password", "The passwords do not match"),
        ],
    )


class TwoFactorOffForm(Form):
    current_code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[Length(max=20)],
    )


class TwoFactorForm(Form):
    current_code = StringField(
        "Code from the authenticator app you use now",
        validators=[Optional(), Length(max=20)],
    )
    code = StringField(
        "Code from the new app",
        validators=[DataRequired("Enter the security code"), Length(max=20)],
    )
