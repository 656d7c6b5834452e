"""A tiny ONVIF camera for tests: a SOAP 1.2 responder on 127.0.0.1.

It answers the calls an ONVIF client makes to move a camera to a preset (device
``GetServices`` / ``GetCapabilities`` / ``GetDeviceInformation`` / ``GetSystemDateAndTime``,
media ``GetProfiles``, PTZ ``GetPresets`` / ``GotoPreset`` / ``Stop``), checks the
WS-Security UsernameToken of every request (user name, and the password digest when it is
a digest), and records every call so a test can assert what the real client sent.

Modes (settable while it runs, optionally limited to some operations with ``only``):

* ``healthy``: answers like a camera (an unknown preset token is a ``ter:NoToken`` fault);
* ``slow``: never answers (the request hangs until the fake is stopped);
* ``error``: answers with a SOAP fault whose text is ``fault_text``.

The HTTP server runs in its own thread (``ThreadingHTTPServer``, one daemon thread per
request); :meth:`FakeOnvifCamera.stop` releases hanging requests, shuts the server down and
joins its thread.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal
from xml.sax.saxutils import escape

Mode = Literal["healthy", "slow", "error"]

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
PTZ_NS = "http://www.onvif.org/ver20/ptz/wsdl"
SCHEMA_NS = "http://www.onvif.org/ver10/schema"

DEVICE_PATH = "/onvif/device_service"
MEDIA_PATH = "/onvif/media_service"
PTZ_PATH = "/onvif/ptz_service"

#: The profile without PTZ comes first, so a client must pick the profile that has PTZ.
STREAM_ONLY_PROFILE = "profile_sub"
PTZ_PROFILE = "profile_main"

_NAMESPACES = (
    f'xmlns:s="{SOAP_ENV}" xmlns:tds="{DEVICE_NS}" xmlns:trt="{MEDIA_NS}" '
    f'xmlns:tptz="{PTZ_NS}" xmlns:tt="{SCHEMA_NS}" xmlns:ter="http://www.onvif.org/ver10/error"'
)


@dataclass(frozen=True)
class OnvifCall:
    """One SOAP request the fake received."""

    operation: str
    path: str
    username: str | None
    arguments: dict[str, str]


@dataclass
class FakeOnvifCamera:
    """An ONVIF PTZ camera on ``127.0.0.1:<free port>``; use it as a context manager."""

    username: str = "operator"
    password: str = "s3cret-ptz-pass"
    presets: dict[str, str] = field(default_factory=lambda: {"1": "wide", "2": "close"})
    mode: Mode = "healthy"
    only: frozenset[str] | None = None
    """Operations the mode applies to; ``None`` means all (others answer healthily)."""
    fault_text: str = "PTZ motor is jammed"
    calls: list[OnvifCall] = field(default_factory=list)
    auth_failures: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.call_arrived = threading.Condition(self._lock)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake ONVIF camera is not started")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self) -> FakeOnvifCamera:
        handler = _make_handler(self)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-onvif",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                raise RuntimeError("the fake ONVIF camera's server thread did not stop")

    def __enter__(self) -> FakeOnvifCamera:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests read ---------------------------------------------------------------

    def operations(self) -> list[str]:
        with self._lock:
            return [call.operation for call in self.calls]

    def calls_of(self, operation: str) -> list[OnvifCall]:
        with self._lock:
            return [call for call in self.calls if call.operation == operation]

    def wait_for_call(self, operation: str, timeout: float) -> OnvifCall:
        """Block until a request for ``operation`` has arrived; fail after ``timeout`` s."""
        with self.call_arrived:
            found = self.call_arrived.wait_for(
                lambda: any(call.operation == operation for call in self.calls), timeout
            )
            if not found:
                raise AssertionError(
                    f"no {operation} within {timeout} s; got {[c.operation for c in self.calls]}"
                )
            return next(call for call in self.calls if call.operation == operation)

    # -- request handling (server threads) --------------------------------------------

    def _record(self, call: OnvifCall) -> None:
        with self.call_arrived:
            self.calls.append(call)
            self.call_arrived.notify_all()

    def _mode_for(self, operation: str) -> Mode:
        if self.only is not None and operation not in self.only:
            return "healthy"
        return self.mode

    def _authorized(self, header: ET.Element | None) -> tuple[bool, str | None]:
        token = None if header is None else header.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            return False, None
        username = token.findtext(f"{{{WSSE}}}Username")
        password = token.find(f"{{{WSSE}}}Password")
        if username != self.username or password is None:
            return False, username
        given = password.text or ""
        if password.get("Type", "").endswith("#PasswordDigest"):
            nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "")
            created = token.findtext(f"{{{WSU}}}Created") or ""
            digest = hashlib.sha1(nonce + created.encode() + self.password.encode()).digest()
            return base64.b64encode(digest).decode() == given, username
        return given == self.password, username

    def _answer(self, path: str, body: bytes) -> tuple[int, str]:
        envelope = ET.fromstring(body)
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
        request = None if soap_body is None else next(iter(soap_body), None)
        if request is None:
            return 400, _fault("s:Sender", "ter:InvalidArgs", "empty SOAP body")
        operation = request.tag.rpartition("}")[2]
        ok, username = self._authorized(header)
        arguments = {child.tag.rpartition("}")[2]: (child.text or "") for child in request}
        self._record(OnvifCall(operation, path, username, arguments))
        if not ok and operation != "GetSystemDateAndTime":
            with self._lock:
                self.auth_failures += 1
            return 400, _fault("s:Sender", "ter:NotAuthorized", "Sender not Authorized")
        mode = self._mode_for(operation)
        if mode == "slow":
            self._release.wait()
            return 503, _fault("s:Receiver", "ter:Action", "shutting down")
        if mode == "error":
            return 500, _fault("s:Receiver", "ter:Action", self.fault_text)
        return self._healthy(operation, arguments)

    def _healthy(self, operation: str, arguments: dict[str, str]) -> tuple[int, str]:
        base = f"http://127.0.0.1:{self.port}"
        if operation == "GetServices":
            services = "".join(
                f"<tds:Service><tds:Namespace>{ns}</tds:Namespace>"
                f"<tds:XAddr>{base}{path}</tds:XAddr>"
                "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version>"
                "</tds:Service>"
                for ns, path in (
                    (DEVICE_NS, DEVICE_PATH),
                    (MEDIA_NS, MEDIA_PATH),
                    (PTZ_NS, PTZ_PATH),
                )
            )
            return 200, _envelope(f"<tds:GetServicesResponse>{services}</tds:GetServicesResponse>")
        if operation == "GetCapabilities":
            return 200, _envelope(
                "<tds:GetCapabilitiesResponse><tds:Capabilities>"
                f"<tt:Device><tt:XAddr>{base}{DEVICE_PATH}</tt:XAddr></tt:Device>"
                f"<tt:Media><tt:XAddr>{base}{MEDIA_PATH}</tt:XAddr></tt:Media>"
                f"<tt:PTZ><tt:XAddr>{base}{PTZ_PATH}</tt:XAddr></tt:PTZ>"
                "</tds:Capabilities></tds:GetCapabilitiesResponse>"
            )
        if operation == "GetDeviceInformation":
            return 200, _envelope(
                "<tds:GetDeviceInformationResponse><tds:Manufacturer>Vistter</tds:Manufacturer>"
                "<tds:Model>FakePTZ</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
                "<tds:SerialNumber>0001</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>"
                "</tds:GetDeviceInformationResponse>"
            )
        if operation == "GetProfiles":
            return 200, _envelope(
                "<trt:GetProfilesResponse>"
                f'<trt:Profiles token="{STREAM_ONLY_PROFILE}" fixed="true">'
                "<tt:Name>substream</tt:Name></trt:Profiles>"
                f'<trt:Profiles token="{PTZ_PROFILE}" fixed="true"><tt:Name>mainstream</tt:Name>'
                '<tt:PTZConfiguration token="ptz_config"><tt:Name>ptz</tt:Name>'
                "<tt:UseCount>1</tt:UseCount><tt:NodeToken>ptz_node</tt:NodeToken>"
                "</tt:PTZConfiguration></trt:Profiles>"
                "</trt:GetProfilesResponse>"
            )
        if operation == "GetPresets":
            presets = "".join(
                f'<tptz:Preset token="{escape(token)}"><tt:Name>{escape(name)}</tt:Name>'
                "</tptz:Preset>"
                for token, name in self.presets.items()
            )
            return 200, _envelope(f"<tptz:GetPresetsResponse>{presets}</tptz:GetPresetsResponse>")
        if operation == "GotoPreset":
            if arguments.get("ProfileToken") != PTZ_PROFILE:
                return 500, _fault("s:Sender", "ter:NoProfile", "The profile has no PTZ")
            if arguments.get("PresetToken") not in self.presets:
                return 500, _fault("s:Sender", "ter:NoToken", "The preset token does not exist")
            return 200, _envelope("<tptz:GotoPresetResponse/>")
        if operation == "Stop":
            return 200, _envelope("<tptz:StopResponse/>")
        return 400, _fault("s:Receiver", "ter:ActionNotSupported", f"{operation} not supported")


def _envelope(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope {_NAMESPACES}>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


def _fault(code: str, subcode: str, text: str) -> str:
    return _envelope(
        f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">{escape(text)}</s:Text>'
        "</s:Reason></s:Fault>"
    )


def _make_handler(camera: FakeOnvifCamera) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            try:
                status, reply = camera._answer(self.path, body)
            except ET.ParseError as exc:
                status, reply = 400, _fault("s:Sender", "ter:WellFormed", str(exc))
            data = reply.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timed out) and closed the connection
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler
