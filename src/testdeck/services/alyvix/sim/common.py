"""What every part of the Alyvix simulator shares: dates, Flask-style errors, body and argument parsing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


def stamp(epoch: float) -> str:
    """The document's date format for filters: YYYYMMDDhhmmss (UTC)."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y%m%d%H%M%S")


def parse_stamp(text: str) -> float | None:
    if len(text) != 14 or not text.isdigit():
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return None


class Reject(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers


def refuse(status: int, text: Any) -> Reject:
    return Reject(status, {"message": text})


def bad_arg(field: str, text: str) -> Reject:
    """flask-restful reqparse: 400 with the field and why."""
    return Reject(400, {"message": {field: text}})


FLASK_PAGE = ('<!doctype html>\n<html lang=en>\n<title>{code} {name}</title>\n<h1>{name}</h1>\n'
              '<p>{text}</p>\n')
FLASK_TEXT = {404: ("Not Found", "The requested URL was not found on the server. If you entered the URL manually "
                    "please check your spelling and try again."),
              405: ("Method Not Allowed", "The method is not allowed for the requested URL.")}


def wrap(request: Request, key: str, items: list) -> JSONResponse:
    """Old (/v0) servers answer bare arrays; newer ones wrap them."""
    return JSONResponse(items if request.url.path.startswith("/v0/") else {key: items})

async def body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise refuse(400, "Failed to decode JSON object: Expecting value") from None
    if not isinstance(data, dict):
        raise refuse(400, "The browser (or proxy) sent a request that this server could not understand.")
    return data


def integer(data: dict[str, Any], key: str, *, required: bool, low: int = 0, high: int | None = None):
    value = data.get(key)
    if value is None:
        if required:
            raise bad_arg(key, "Missing required parameter in the JSON body")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_arg(key, f"invalid literal for int() with base 10: {json.dumps(value)}")
    if value < low or (high is not None and value > high):
        raise bad_arg(key, f"must be between {low} and {high}" if high else f"must be at least {low}")
    return value
