"""Write the service's OpenAPI document, as ``/api/openapi.json`` serves it, without
starting a server or reading the environment: the app is built on the embedded defaults
(every feature package that is installed adds its routes) and nothing is kept but the
output.

    python3 -m signaling.openapi_dump [PATH]      # no PATH: to stdout

``npm run gen:api --prefix web_client`` runs this and turns the document into
``web_client/src/api-types.ts``; ``tests/web_client/test_api_types.py`` checks that the
committed file is what the server's models give today.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from signaling.app import build_app, openapi_document
from signaling.settings import Settings


class _Defaults(Settings):
    """The settings with only their embedded defaults: no environment, no config file,
    so the document does not depend on who runs the dump."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def document() -> dict[str, Any]:
    """The OpenAPI document of the full service on default settings. Building the app
    prepares its data folder (the embedded database's directory): a temporary one, gone
    on return, keeps the caller's working directory clean."""
    with tempfile.TemporaryDirectory(prefix="tiaojie-openapi-") as data_dir:
        return openapi_document(build_app(_Defaults(data_dir=Path(data_dir))))


def dumps(doc: dict[str, Any]) -> str:
    """Stable text: sorted keys, so that a change to a model is a small diff."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = dumps(document())
    if len(argv) > 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if argv:
        out = Path(argv[0])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
