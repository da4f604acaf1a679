"""Forms for every state change: each one carries a CSRF token (Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Optional


class ActionForm(FlaskForm):
    """A button that changes state and needs nothing but its CSRF token (log out, refresh)."""


class IdentityForm(FlaskForm):
    """Names one identity as `{provider}|{user_id}`; the server looks it up itself."""

    identity = HiddenField(validators=[DataRequired(), Length(max=600)])


class LinkForm(FlaskForm):
    """Starts linking; `connection` is empty to let the user pick at Auth0's login page."""

    connection = HiddenField(validators=[Optional(), Length(max=128)])
    # Set by the confirmation page's button: without it the page says what linking does first.
    confirmed = HiddenField(validators=[Optional(), Length(max=1)])


class SeparatedForm(FlaskForm):
    """Names a separated account by its user id; it must be one this session split off."""

    user = HiddenField(validators=[DataRequired(), Length(max=600)])
