"""Form fields shared by every app's admin."""

import json
from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput


class IndentedJSONField(forms.JSONField):
    """JSON shown indented, so that staff edit a readable document."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)
