"""``ikm-sync config``: validate and show the effective settings, secrets masked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table

if TYPE_CHECKING:
    from config import LoadedSettings, SecretRedactor

app = typer.Typer(help="Validate and show the settings.", no_args_is_help=True)


def _leaves(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif (
        isinstance(value, list)
        and value
        and not all(isinstance(v, str | int | float | bool) for v in value)
    ):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _masked(value: Any, redactor: SecretRedactor) -> Any:
    """``value`` with every configured secret in its text masked."""
    if isinstance(value, str):
        return redactor.redact_text(value)
    if isinstance(value, list):
        return [_masked(item, redactor) for item in value]
    return value


def effective_settings(loaded: LoadedSettings) -> list[dict[str, Any]]:
    """Every setting as key, value (secrets masked) and the layer it came from.

    A secret's own key shows the mask; so does any other setting holding a configured
    secret's value (one pasted into the wrong place).
    """
    from pydantic import SecretStr

    from config import SecretRedactor, is_secret_key
    from config.logging import MASK

    redactor = SecretRedactor(value for _, value in loaded.settings.secret_values())
    dumped = loaded.settings.model_dump(mode="python")
    dumped["database"]["url"] = loaded.settings.database_url_for_display()
    rows = []
    for path, value in _leaves(dumped):
        if isinstance(value, SecretStr) or (is_secret_key(path) and value is not None):
            shown: Any = MASK
        elif hasattr(value, "__fspath__"):
            shown = redactor.redact_text(str(value))
        else:
            shown = _masked(value, redactor)
        rows.append(
            {"key": _dotted(path), "value": shown, "source": loaded.origin(path)}
        )
    return rows


def marketplace_option_problems(loaded: LoadedSettings) -> list[str]:
    """The ``options`` of each enabled marketplace an enabled account is on, checked
    by the marketplace's own settings model (its descriptor's), one line per problem
    naming the key and where it came from."""
    from pydantic import ValidationError

    import connectors

    settings = loaded.settings
    used = {a.marketplace for a in settings.accounts if a.enabled}
    problems: list[str] = []
    for key, market in sorted(settings.marketplaces.items()):
        if not market.enabled or key not in used:
            continue
        model = connectors.descriptor(key).settings
        try:
            model.model_validate(dict(market.options))
        except ValidationError as exc:
            for error in exc.errors():
                path = ("marketplaces", key, "options", *error["loc"])
                given = error["type"] != "missing" and len(path) > 3
                origin = loaded.origin(path[:4] if given else path[:3])
                problems.append(f"{_dotted(path)} ({origin}): {error['msg']}")
    return problems


@app.command("check")
def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate the settings and print the effective values with their sources.

    Exit code 3 and one line per problem (key, file or variable, what was expected)
    when the settings are invalid.
    """
    app_state = state(ctx)
    app_state.json_errors = as_json
    loaded = app_state.settings()
    problems = marketplace_option_problems(loaded)
    if problems:
        from config import ConfigurationError

        raise ConfigurationError(problems)
    rows = effective_settings(loaded)
    if as_json:
        emit_json(
            {
                "valid": True,
                "config_file": None
                if loaded.config_file is None
                else str(loaded.config_file),
                "settings": rows,
            }
        )
        return
    out = console()
    out.print(
        f"settings file: {loaded.config_file or '(none; defaults and environment)'}"
    )
    out.print(
        table(
            "Effective settings (valid)",
            ("key", "value", "source"),
            [(r["key"], r["value"], r["source"]) for r in rows],
        )
    )
