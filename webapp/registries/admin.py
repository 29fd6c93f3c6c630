"""Registries in the admin: credentials typed into write-only fields, never shown back."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from webapp.registries.models import Registry
from webapp.registries.services import check_host


class RegistryForm(forms.ModelForm):
    username = forms.CharField(max_length=255, required=False)
    password = forms.CharField(
        max_length=4096,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="kept sealed; leave both blank to keep what is stored",
    )

    class Meta:
        model = Registry
        fields = ["team", "name", "host"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # never pre-filled: the stored username is as private as the password
        self.fields["username"].widget.attrs["autocomplete"] = "off"

    def clean_host(self) -> str:
        from webapp.errors import Invalid

        try:
            return check_host(self.cleaned_data["host"])
        except Invalid as exc:
            raise forms.ValidationError(str(exc)) from None

    def save(self, commit: bool = True) -> Registry:
        registry = super().save(commit=False)
        username, password = self.cleaned_data["username"], self.cleaned_data["password"]
        if username or password:
            registry.set_credentials(username, password)
        if commit:
            registry.save()
        return registry


@admin.register(Registry)
class RegistryAdmin(admin.ModelAdmin):
    form = RegistryForm
    list_display = ["name", "host", "team", "authenticated"]
    list_filter = ["team"]
    search_fields = ["name", "host"]

    @admin.display(boolean=True, description="credentials stored")
    def authenticated(self, obj: Registry) -> bool:
        return obj.authenticated
