"""``GET /api/docs``: the OpenAPI document as one readable HTML page, rendered on the server.

No script and nothing fetched from elsewhere: every route with its summary, parameters, body
and answers, then every schema as indented JSON, linked by anchors. Everything shown comes
from the OpenAPI document (escaped), so the page says what ``/api/openapi.json`` says.
"""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["render_docs"]

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:68rem;margin:2rem auto;padding:0 1rem;
color:#1d232a}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ccd} h3{margin:.2rem 0}
.op{border:1px solid #d5dae1;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
.m{display:inline-block;min-width:4.2rem;font:bold 13px monospace;padding:2px 6px;
border-radius:4px;color:#fff;text-align:center}
.get{background:#2f6fb0}.post{background:#2f8a4c}.put{background:#a4661c}
.delete{background:#b03535}
code,pre{font:13px/1.35 ui-monospace,monospace} pre{background:#f4f6f8;padding:.6rem;
overflow:auto;border-radius:4px} table{border-collapse:collapse;margin:.3rem 0}
td,th{border:1px solid #dde;padding:2px 8px;text-align:left;vertical-align:top}
.muted{color:#5b6570}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _schema_link(schema: dict[str, Any]) -> str:
    """A short readable form of a schema: links to named schemas, else compact JSON."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return f'<a href="#schema-{_e(name)}"><code>{_e(name)}</code></a>'
    for combinator in ("anyOf", "oneOf"):
        members = schema.get(combinator)
        if isinstance(members, list):
            return " | ".join(_schema_link(member) for member in members)
    return f"<code>{_e(json.dumps(schema, ensure_ascii=False))}</code>"


def _parameters(entry: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
        f"<td>{_schema_link(p['schema'])}</td><td>{_e(p.get('description', ''))}</td></tr>"
        for p in entry.get("parameters", [])
    )
    if not rows:
        return ""
    return "<table><tr><th>parameter</th><th>in</th><th>schema</th><th></th></tr>" + rows + (
        "</table>"
    )


def _body(entry: dict[str, Any]) -> str:
    body = entry.get("requestBody")
    if not body:
        return ""
    required = "required" if body.get("required") else "optional"
    kinds = "".join(
        f"<li><code>{_e(media)}</code>: {_schema_link(item['schema'])}</li>"
        for media, item in body["content"].items()
    )
    description = _e(body.get("description", ""))
    return f"<p><b>Body</b> ({required}) {description}</p><ul>{kinds}</ul>"


def _answers(entry: dict[str, Any]) -> str:
    rows = []
    for status, answer in entry["responses"].items():
        content = answer.get("content", {})
        schema = " ".join(
            f"<code>{_e(media)}</code> {_schema_link(item['schema'])}"
            for media, item in content.items()
        )
        rows.append(
            f"<tr><td><b>{_e(status)}</b></td><td>{_e(answer['description'])}</td>"
            f"<td>{schema}</td></tr>"
        )
    return "<table><tr><th>status</th><th>when</th><th>body</th></tr>" + "".join(rows) + (
        "</table>"
    )


def _operation(path: str, method: str, entry: dict[str, Any]) -> str:
    anchor = _e(entry["operationId"])
    description = entry.get("description")
    return (
        f'<div class="op" id="{anchor}"><h3><span class="m {_e(method)}">'
        f"{_e(method.upper())}</span> <code>{_e(path)}</code></h3>"
        f"<p>{_e(entry['summary'])}</p>"
        + (f'<p class="muted">{_e(description)}</p>' if description else "")
        + _parameters(entry) + _body(entry) + _answers(entry) + "</div>"
    )


def render_docs(document: dict[str, Any]) -> str:
    """The HTML page for an OpenAPI document (as :func:`vistter.api.openapi.openapi_document`
    makes it)."""
    info = document["info"]
    by_tag: dict[str, list[str]] = {}
    for path, methods in document["paths"].items():
        for method, entry in methods.items():
            tag = (entry.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(path, method, entry))
    tag_text = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    sections = "".join(
        f"<h2 id=\"tag-{_e(tag)}\">{_e(tag)}</h2><p class=\"muted\">{_e(tag_text.get(tag, ''))}"
        f"</p>" + "".join(operations)
        for tag, operations in by_tag.items()
    )
    schemas = "".join(
        f'<h3 id="schema-{_e(name)}"><code>{_e(name)}</code></h3>'
        f"<pre>{_e(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>"
        for name, schema in sorted(document["components"]["schemas"].items())
    )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(info['title'])} {_e(info['version'])}</title><style>{_STYLE}</style>"
        f"</head><body><h1>{_e(info['title'])}</h1>"
        f"<p class=\"muted\">version {_e(info['version'])}, OpenAPI {_e(document['openapi'])}"
        " &middot; machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a></p>"
        f"<p>{_e(info['description'])}</p>{sections}<h2 id=\"schemas\">schemas</h2>{schemas}"
        "</body></html>"
    )
