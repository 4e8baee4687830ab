"""The local AWS endpoint: moto's server, plus LocalStack's `/_aws/ses` mailbox route.

moto serves S3, SES, SESv2 (and more) on one port, like LocalStack's edge port. Tests and
the demo read delivered e-mails back through `GET /_aws/ses`, the same route and shape
LocalStack offers, so the same client code works against either (`DELETE /_aws/ses` empties
the mailbox). moto keeps sent messages in its SES backend; this wrapper only reads them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from datetime import datetime, timezone
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

# Filled as messages are first seen: moto stores no send time.
_first_seen: dict[str, str] = {}


def _ses_messages() -> list[dict[str, Any]]:
    from moto.ses.models import RawMessage, ses_backends

    out: list[dict[str, Any]] = []
    for account_id, regions in ses_backends.items():
        for region, backend in regions.items():
            for msg in backend.sent_messages:
                msg_id = getattr(msg, "id", None) or ",".join(getattr(msg, "ids", []))
                ts = _first_seen.setdefault(msg_id, datetime.now(timezone.utc).isoformat())
                item: dict[str, Any] = {
                    "Id": msg_id,
                    "Region": region,
                    "AccountId": account_id,
                    "Source": msg.source,
                    "Timestamp": ts,
                }
                if isinstance(msg, RawMessage):
                    item["Destination"] = {"ToAddresses": list(msg.destinations)}
                    item["RawData"] = msg.raw_data
                else:
                    item["Destination"] = getattr(msg, "destinations", {})
                    item["Subject"] = getattr(msg, "subject", None)
                    body = getattr(msg, "body", None)
                    is_html = isinstance(body, str) and body.lstrip().lower().startswith("<")
                    item["Body"] = {"html_part" if is_html else "text_part": body}
                    if hasattr(msg, "template"):
                        item["Template"] = msg.template
                        item["TemplateData"] = msg.template_data
                out.append(item)
    return out


def _clear_ses_messages() -> None:
    from moto.ses.models import ses_backends

    for regions in ses_backends.values():
        for backend in regions.values():
            backend.sent_messages.clear()


class Endpoint:
    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/_aws/ses":
            request = Request(environ)
            if request.method == "DELETE":
                _clear_ses_messages()
                return Response(status=204)(environ, start_response)
            messages = _ses_messages()
            wanted = request.args.get("email")
            if wanted:
                messages = [m for m in messages if m["Source"] == wanted]
            body = json.dumps({"messages": messages})
            return Response(body, mimetype="application/json")(environ, start_response)
        if path == "/_health":
            return Response(json.dumps({"status": "running"}), mimetype="application/json")(
                environ, start_response
            )
        return self.moto(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        args.host,
        args.port,
        Endpoint(),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
