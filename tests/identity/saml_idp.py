"""A real SAML 2.0 identity provider for tests (pysaml2 ``server.Server``), playing NIA.

It checks the signature of the AuthnRequest (HTTP-Redirect), answers with a signed
Response and signed Assertion carrying eIDAS attributes (HTTP-POST), with the LoA
``http://eidas.europa.eu/LoA/substantial``. Its page returns the auto-submit form; tests
read SAMLResponse from it and post it to the portal's ACS themselves, which also lets them
tamper with it or replay it.

``mode``: ``ok``, ``cancel`` (the citizen cancelled: Responder/AuthnFailed), ``expired``
(assertion valid until half an hour ago), ``encrypted`` (the assertion encrypted for
the SP with the certificate in its metadata, as NIA does), ``wrong_audience`` (an assertion issued to
another service provider whose ACS is ours).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server

EIDAS = "http://eidas.europa.eu/attributes/naturalperson/"
LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
# NIA signs with RSA-SHA256; python3-saml refuses SHA-1 (pysaml2's default).
SIGN_ALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_ALG = "http://www.w3.org/2001/04/xmlenc#sha256"
EIDAS_NAMES = ["PersonIdentifier", "CurrentGivenName", "CurrentFamilyName", "DateOfBirth", "CurrentAddress"]
OTHER_SP = "https://jina-sluzba.example.cz/saml/metadata"

# pysaml2's built-in maps match names without case: eIDAS DateOfBirth would leave as the
# PKIX dateOfBirth OID. The IdP gets a map directory holding only the eIDAS map.
EIDAS_MAP = f'''MAP = {{
    "identifier": "{NAME_FORMAT_URI}",
    "fro": {{{", ".join(f'"{EIDAS}{n}": "{n}"' for n in EIDAS_NAMES)}}},
    "to": {{{", ".join(f'"{n}": "{EIDAS}{n}"' for n in EIDAS_NAMES)}}},
}}
'''


def make_cert(common_name: str, directory: Path, stem: str) -> tuple[Path, Path]:
    """A self-signed RSA certificate and key, written as PEM files."""
    cert_pem, key_pem = _cert_pem(common_name)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    return cert_path, key_path


@functools.cache
def _cert_pem(common_name: str) -> tuple[bytes, bytes]:
    # Made once per test run: generating RSA keys is the slow part of every test's setup.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def other_sp_metadata(acs_url: str) -> str:
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{OTHER_SP}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{acs_url}" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""


class TestSamlIdP:
    __test__ = False

    def __init__(self, base_url: str, workdir: Path):
        self.base = base_url.rstrip("/")
        self.entity_id = self.base + "/metadata"
        self.dir = workdir
        self.cert_file, self.key_file = make_cert("Test NIA IdP", workdir, "idp")
        mapdir = workdir / "attribute_maps"
        mapdir.mkdir(exist_ok=True)
        (mapdir / "eidas.py").write_text(EIDAS_MAP)
        self.mapdir = mapdir
        self.mode = "ok"
        self.person = {
            "PersonIdentifier": "CZ/CZ/7e1c1b5a-0b7c-4a9e-9d3f-00aa11bb22cc",
            "CurrentGivenName": "Jana",
            "CurrentFamilyName": "Nováková",
            "DateOfBirth": "1980-05-17",
            "CurrentAddress": "Nám. Dr. E. Beneše 1, 460 01 Liberec",
        }
        self.requests_seen: list[dict[str, Any]] = []
        self.servers: dict[str, Server] = {}
        # The IdP's metadata can be made before any SP is known.
        self.metadata_xml = create_metadata_string(None, config=self._config([]), valid=24)
        if isinstance(self.metadata_xml, bytes):
            self.metadata_xml = self.metadata_xml.decode()

    def _config(self, sp_metadata: list[str], lifetime_minutes: int = 5) -> IdPConfig:
        conf = {
            "entityid": self.entity_id,
            "service": {
                "idp": {
                    "name": "Test NIA",
                    "endpoints": {"single_sign_on_service": [(self.base + "/sso/redirect", BINDING_HTTP_REDIRECT)]},
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": lifetime_minutes},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "want_authn_requests_signed": True,
                    "sign_response": True,
                    "sign_assertion": True,
                }
            },
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "metadata": {"inline": sp_metadata},
            "attribute_map_dir": str(self.mapdir),
            "allow_unknown_attributes": True,
            "accepted_time_diff": 60,
        }
        config = IdPConfig()
        config.load(conf)
        return config

    def trust(self, sp_metadata_xml: str) -> None:
        """Load the portal's SP metadata (and another SP's, whose ACS is ours)."""
        from lxml import etree

        acs = etree.fromstring(sp_metadata_xml.encode()).xpath(
            "//md:AssertionConsumerService/@Location", namespaces={"md": "urn:oasis:names:tc:SAML:2.0:metadata"}
        )[0]
        self.sp_metadata = [sp_metadata_xml, other_sp_metadata(acs)]
        self.servers["ok"] = Server(config=self._config(self.sp_metadata))

    def server(self, mode: str) -> Server:
        if mode == "expired" and "expired" not in self.servers:
            # The same IdP, but its assertions were valid only until 30 minutes ago.
            self.servers["expired"] = Server(config=self._config(self.sp_metadata, lifetime_minutes=-30))
        return self.servers["expired" if mode == "expired" else "ok"]

    def make_app(self) -> Flask:
        idp = self
        app = Flask("test_saml_idp")
        app.config.update(SECRET_KEY="idp-secret", SESSION_COOKIE_NAME="idp_session")

        @app.get("/metadata")
        def metadata():  # type: ignore[no-untyped-def]
            return idp.metadata_xml, 200, {"Content-Type": "application/samlmetadata+xml"}

        @app.get("/sso/redirect")
        def sso():  # type: ignore[no-untyped-def]
            server = idp.servers["ok"]
            args = request.args
            try:
                req = server.parse_authn_request(
                    args["SAMLRequest"],
                    BINDING_HTTP_REDIRECT,
                    relay_state=args.get("RelayState"),
                    sigalg=args.get("SigAlg"),
                    signature=args.get("Signature"),
                )
            except Exception as exc:  # noqa: BLE001 - an IdP shows a refusal page
                return f"Neplatný požadavek: {exc}", 400
            if req is None or not args.get("Signature"):
                return "Nepodepsaný požadavek", 400
            message = req.message
            idp.requests_seen.append(
                {
                    "id": message.id,
                    "issuer": message.issuer.text,
                    "acs": message.assertion_consumer_service_url,
                    "authn_context": [c.text for c in message.requested_authn_context.authn_context_class_ref]
                    if message.requested_authn_context
                    else [],
                }
            )
            return idp.answer(message, args.get("RelayState"))

        return app

    def answer(self, message, relay_state: str | None) -> str:  # type: ignore[no-untyped-def]
        sp_entity_id = message.issuer.text
        destination = message.assertion_consumer_service_url
        server = self.server(self.mode)
        if self.mode == "cancel":
            response = server.create_error_response(
                message.id,
                destination,
                (samlp.STATUS_AUTHN_FAILED, "Uživatel přihlášení zrušil"),
                sign=True,
                sign_alg=SIGN_ALG,
                digest_alg=DIGEST_ALG,
            )
        else:
            if self.mode == "wrong_audience":
                sp_entity_id = OTHER_SP
            identity = {k: [v] for k, v in self.person.items()}
            response = server.create_authn_response(
                identity,
                in_response_to=message.id,
                destination=destination,
                sp_entity_id=sp_entity_id,
                name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16)),
                authn={"class_ref": LOA_SUBSTANTIAL, "authn_auth": self.entity_id},
                sign_response=True,
                sign_assertion=True,
                sign_alg=SIGN_ALG,
                digest_alg=DIGEST_ALG,
                # NIA encrypts the assertion for the SP (the cert from the SP's metadata).
                encrypt_assertion=self.mode == "encrypted",
                # pysaml2's "self-contained" rewrite of the encrypted assertion breaks
                # its signature for python3-saml; NIA's assertions verify as plain XML.
                encrypt_assertion_self_contained=False,
            )
        http_args = server.apply_binding(BINDING_HTTP_POST, str(response), destination, relay_state, response=True)
        return http_args["data"]
