"""Secrets read from files: ``CCMON_<NAME>_FILE`` names a file holding ``CCMON_<NAME>``.

Kubernetes and Docker mount secrets as files; a variable pointing at the file keeps the
secret out of the environment and of ``ps``. Every SecretStr setting takes one (unless a
setting of its own is called ``<name>_file``). A file's trailing newlines are dropped
(``echo`` and editors add one), inner ones kept; an unreadable file, or both variables
set, is an error naming the variable.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

__all__ = ["SecretFileError", "SecretFiles", "file_variables", "secret_fields"]


class SecretFileError:
    """What the source hands a setting whose file cannot be used; the settings' own
    validator turns it into a validation error on that setting, naming the variable."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"SecretFileError({self.message!r})"


def secret_fields(settings_cls: type[BaseSettings]) -> list[str]:
    """Names of the settings typed SecretStr (or SecretStr | None)."""
    out = []
    for name, info in settings_cls.model_fields.items():
        annotation = info.annotation
        if annotation is SecretStr or SecretStr in typing.get_args(annotation):
            out.append(name)
    return out


def file_variables(settings_cls: type[BaseSettings]) -> dict[str, str]:
    """``{setting: "CCMON_<SETTING>_FILE"}`` for every secret that takes a file variable."""
    prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
    fields = settings_cls.model_fields
    return {
        name: f"{prefix}{name.upper()}_FILE"
        for name in secret_fields(settings_cls)
        if f"{name}_file" not in fields
    }


def read_secret_files(
    settings_cls: type[BaseSettings], environ: Mapping[str, str]
) -> dict[str, Any]:
    """The secrets the file variables in `environ` name, read; a SecretFileError where a
    file cannot be read or the setting is also given directly."""
    env = {key.upper(): value for key, value in environ.items()}
    prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
    out: dict[str, Any] = {}
    for name, variable in file_variables(settings_cls).items():
        path = env.get(variable, "")
        if not path:
            continue
        direct = f"{prefix}{name.upper()}"
        if direct in env:
            out[name] = SecretFileError(f"set {direct} or {variable}, not both")
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            out[name] = SecretFileError(f"{variable}: cannot read {path}: {reason}")
            continue
        out[name] = text.rstrip("\r\n")
    return out


class SecretFiles(PydanticBaseSettingsSource):
    """pydantic-settings source of the secrets named by CCMON_<NAME>_FILE variables."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads every file variable at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return read_secret_files(self.settings_cls, os.environ)
