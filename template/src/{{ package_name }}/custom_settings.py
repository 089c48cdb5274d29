"""This service's own settings, read from the environment like the template's.

This module belongs to the project: the template creates it once and `make update` never
changes it, so adding a setting here never conflicts with a template update. `Settings`
inherits every field of `CustomSettings`; a group of your own reads its variables with the
same double underscore:

    class PaymentsSettings(BaseModel):
        url: str = "https://payments.example.com"

    class CustomSettings(BaseModel):
        payments: PaymentsSettings = PaymentsSettings()   # PAYMENTS__URL

Document every variable at the end of .env.example, below its last section (the template
never edits there); a test checks that .env.example names every setting.
"""

from pydantic import BaseModel


class CustomSettings(BaseModel):
    """Settings this service adds to the template's."""
