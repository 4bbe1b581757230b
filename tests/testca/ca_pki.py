"""The CA's keys and certificates: roots A and B, one intermediate (also
cross-signed by B), the HTTPS server certificate, leaf issuance, CSR checks
and RFC 9773 ARI certificate identifiers. All keys are EC P-256, made fresh
at every start; PEM files are written to the state directory.
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ca_util import AcmeError, b64url

DAY = 86400


def _dt(ts):
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "persistd tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def serial_der_content(serial):
    """The content octets of the DER INTEGER encoding of a positive serial."""
    return serial.to_bytes(serial.bit_length() // 8 + 1, "big")


def ari_cert_id(cert):
    """RFC 9773 section 4.1: b64url(AKI keyIdentifier) "." b64url(serial DER content)."""
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    return b64url(aki.key_identifier) + "." + b64url(serial_der_content(cert.serial_number))


class PKI:
    """Root A, root B, the intermediate in two versions and the TLS identity."""

    def __init__(self, state_dir, now):
        self.dir = state_dir
        start = now - 5 * 365 * DAY
        end = now + 30 * 365 * DAY
        self.root_a_key = ec.generate_private_key(ec.SECP256R1())
        self.root_b_key = ec.generate_private_key(ec.SECP256R1())
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.root_a = self._ca_cert("persistd Test Root A", self.root_a_key, None, None, start, end)
        self.root_b = self._ca_cert("persistd Test Root B", self.root_b_key, None, None, start, end)
        self.inter = self._ca_cert("persistd Test Intermediate", self.inter_key,
                                   self.root_a, self.root_a_key, start, end, 0)
        self.inter_cross = self._ca_cert("persistd Test Intermediate", self.inter_key,
                                         self.root_b, self.root_b_key, start, end, 0)
        self.inter_ski = x509.SubjectKeyIdentifier.from_public_key(self.inter_key.public_key())
        tls_key = ec.generate_private_key(ec.SECP256R1())
        tls = (x509.CertificateBuilder()
               .subject_name(_name("persistd testca 127.0.0.1"))
               .issuer_name(self.root_a.subject)
               .public_key(tls_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(_dt(now - DAY)).not_valid_after(_dt(now + 365 * DAY))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
               .add_extension(x509.SubjectAlternativeName([
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                   False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   self.root_a_key.public_key()), False)
               .sign(self.root_a_key, hashes.SHA256()))
        self.root_a_path = os.path.join(state_dir, "root-a.pem")
        self._write("root-a.pem", _pem(self.root_a))
        self._write("root-b.pem", _pem(self.root_b))
        self._write("intermediate.pem", _pem(self.inter))
        self._write("intermediate-cross-b.pem", _pem(self.inter_cross))
        self.tls_cert_path = self._write("tls-cert.pem", _pem(tls))
        self.tls_key_path = self._write("tls-key.pem", tls_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), 0o600)

    def _write(self, name, data, mode=0o644):
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return path

    @staticmethod
    def _ca_cert(cn, key, issuer, issuer_key, start, end, pathlen=None):
        pub = key.public_key()
        b = (x509.CertificateBuilder()
             .subject_name(_name(cn))
             .issuer_name(issuer.subject if issuer else _name(cn))
             .public_key(pub)
             .serial_number(x509.random_serial_number())
             .not_valid_before(_dt(start)).not_valid_after(_dt(end))
             .add_extension(x509.BasicConstraints(ca=True, path_length=pathlen), True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=False, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=True, crl_sign=True,
                                          encipher_only=False, decipher_only=False), True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), False))
        if issuer is not None:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), False)
        return b.sign(issuer_key or key, hashes.SHA256())

    def issue(self, pub, names, not_before, lifetime, signer=None):
        """A leaf for names (SAN, in order) valid [not_before, not_before + lifetime],
        signed by the intermediate (or by signer, for a chain that does not link)."""
        rsa_key = isinstance(pub, rsa.RSAPublicKey)
        subject = _name(names[0]) if len(names[0]) <= 64 else x509.Name([])
        b = (x509.CertificateBuilder()
             .subject_name(subject)
             .issuer_name(self.inter.subject)
             .public_key(pub)
             .serial_number(x509.random_serial_number())
             .not_valid_before(_dt(not_before)).not_valid_after(_dt(not_before + lifetime))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=rsa_key, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=False,
                                          crl_sign=False, encipher_only=False,
                                          decipher_only=False), True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CLIENT_AUTH]), False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                 self.inter_ski), False)
             .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                            not len(subject)))
        return b.sign(signer or self.inter_key, hashes.SHA256())

    def chain_pem(self, leaf, alternate=False):
        """application/pem-certificate-chain: leaf, then the intermediate for root A or B."""
        return _pem(leaf) + _pem(self.inter_cross if alternate else self.inter)


def check_csr(der, identifiers, account_thumbs, thumbprint_of):
    """Parse and verify a finalize CSR; its SANs must equal identifiers. -> public key."""
    try:
        csr = x509.load_der_x509_csr(der)
    except ValueError as e:
        raise AcmeError("badCSR", f"CSR does not parse: {e}") from None
    try:
        if not csr.is_signature_valid:
            raise AcmeError("badCSR", "CSR signature does not verify")
        pub = csr.public_key()
        exts = csr.extensions
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as e:
        raise AcmeError("badCSR", f"CSR is not acceptable: {e}") from None
    if isinstance(pub, ec.EllipticCurvePublicKey):
        if pub.curve.name not in ("secp256r1", "secp384r1"):
            raise AcmeError("badCSR", f"CSR key curve {pub.curve.name} not accepted (P-256, P-384)")
    elif isinstance(pub, rsa.RSAPublicKey):
        if not 2048 <= pub.key_size <= 8192:
            raise AcmeError("badCSR", f"CSR RSA key of {pub.key_size} bits not accepted")
    else:
        raise AcmeError("badCSR", "CSR key type not accepted (EC P-256/P-384 or RSA)")
    if thumbprint_of(pub) in account_thumbs:
        raise AcmeError("badCSR", "CSR key must not be the account key")
    try:
        san = exts.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise AcmeError("badCSR", "CSR has no subjectAltName extension") from None
    names = san.get_values_for_type(x509.DNSName)
    if len(names) != len(list(san)):
        raise AcmeError("badCSR", "CSR subjectAltName may hold dNSName entries only")
    want, got = set(identifiers), set(names)
    if want != got:
        raise AcmeError("badCSR", "CSR names do not match the order: missing "
                        f"{sorted(want - got)}, extra {sorted(got - want)}")
    for cn in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        if cn.value not in got:
            raise AcmeError("badCSR", f"CSR commonName {cn.value!r} is not among its SANs")
    return pub
