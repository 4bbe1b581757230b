#!/usr/bin/python3
"""Makes the key and certificate fixtures of tests/unit/test_{key,jws,csr,x509}.c.

Run once from the repository root with Debian's python3-cryptography (38):
    /usr/bin/python3 tests/data/gen-crypto.py
and commit the output. ECDSA signatures and fresh keys are random, so a rerun changes
the bytes (not the facts the tests check); the RFC keys and every asserted field are
fixed here. See tests/data/README.crypto for what each file is for.
"""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

OUT = os.path.dirname(os.path.abspath(__file__))
UTC = datetime.timezone.utc


def b64u_int(s):
    import base64
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def key_pem(key, fmt=serialization.PrivateFormat.TraditionalOpenSSL,
            enc=serialization.NoEncryption()):
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)


def pkcs8(key):
    return key_pem(key, serialization.PrivateFormat.PKCS8)


def cert_pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


# RFC 7517 appendix A.2, first key: the RSA key whose public half is RFC 7638 section 3.1's
# thumbprint example (NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs).
A2 = dict(
    n="0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJ"
      "ECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD"
      "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4v"
      "MQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    e="AQAB",
    d="X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFA"
      "KNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNKroADIkJ46pRUohsXywbReAdYaMwFs9"
      "tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk"
      "0GjskDJk19Z4qwjwbsnn4j2WBii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q",
    p="83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-60eTDmD2ujnMt5PoqMrm8RfmNhV"
      "WDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41xy8B9RzzOGVQzXvNEvn7O0nVbfs",
    q="3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLyumqjVZQO1dIrdwgTnCdpYzBcOfW5r370AFXj"
      "iWft_NGEiovonizhKpo9VVS78TzFgxkIdrecRezsZ-1kYd_s1qDbxtkDEgfAITAG9LUnADun4vIcb6yelxk",
    dp="G4sPXkc6Ya9y8oJW9_ILj4xuppu0lzi_H7VTkS8xj5SdX3coE0oimYwxIi2emTAue0UOa5dpgFGyBJ4c8tQ2VF4"
       "02XRugKDTP8akYhFo5tAA77Qe_NmtuYZc3C3m3I24G2GvR5sSDxUyAN2zq8Lfn9EUms6rY3Ob8YeiKkTiBj0",
    dq="s9lAH9fggBsoFR8Oac2R_E2gw282rT2kGOAhvIllETE1efrA6huUUvMfBcMpn8lqeW6vzznYY5SSQF7pMdC_agI"
       "3nG8Ibp1BUb0JUiraRNqUfLhcQb_d9GF4Dh7e74WbRsobRonujTYN1xCaP6TO61jvWrX-L18txXw494Q_cgk",
    qi="GyM_p6JrXySiz1toFgKbWV-JdI3jQ4ypu9rbMWx3rQJBfmt0FoYzgUIZEVFEcOqwemRN81zoDAaa-Bk0KWNGDjJ"
       "HZDdDmFhW3AN7lI-puxk_mHZGJ11rxyR8O55XLSe3SPmRfKwZI6yU24ZxvQKFYItdldUKGzO6Ia6zTKhAVRU",
)
a2 = rsa.RSAPrivateNumbers(
    p=b64u_int(A2["p"]), q=b64u_int(A2["q"]), d=b64u_int(A2["d"]),
    dmp1=b64u_int(A2["dp"]), dmq1=b64u_int(A2["dq"]), iqmp=b64u_int(A2["qi"]),
    public_numbers=rsa.RSAPublicNumbers(b64u_int(A2["e"]), b64u_int(A2["n"])),
).private_key()
write("key-rfc7517-rsa.pem", key_pem(a2))
write("key-rfc7517-rsa-pkcs8.pem", pkcs8(a2))

# RFC 6979 appendix A.2.5: the P-256 key whose SHA-256 signature of "sample" is fixed.
rfc6979 = ec.derive_private_key(
    0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721, ec.SECP256R1())
write("key-rfc6979-p256.pem", key_pem(rfc6979))

write("key-p256-pkcs8.pem", pkcs8(ec.generate_private_key(ec.SECP256R1())))
p384 = ec.generate_private_key(ec.SECP384R1())
write("key-p384-sec1.pem", key_pem(p384))
write("key-p384-pkcs8.pem", pkcs8(p384))

# Keys key_load_pem() must refuse.
write("key-bad-p521.pem", key_pem(ec.generate_private_key(ec.SECP521R1())))
write("key-bad-secp256k1.pem", key_pem(ec.generate_private_key(ec.SECP256K1())))
write("key-bad-rsa1024.pem", key_pem(rsa.generate_private_key(65537, 1024)))
write("key-bad-rsa2560.pem", key_pem(rsa.generate_private_key(65537, 2560)))
write("key-bad-ed25519.pem", pkcs8(ed25519.Ed25519PrivateKey.generate()))
write("key-bad-encrypted.pem",
      key_pem(ec.generate_private_key(ec.SECP256R1()),
              enc=serialization.BestAvailableEncryption(b"secret")))


def name(cn=None, o=None):
    attrs = []
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def ca_cert(subject, issuer, pub, signer, serial, ski=None, aki_from=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(pub).serial_number(serial)
         .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=UTC))
         .not_valid_after(datetime.datetime(2034, 1, 1, tzinfo=UTC))
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .add_extension(ski or x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
    if aki_from:
        b = b.add_extension(aki_from, critical=False)
    return b.sign(signer, hashes.SHA256())


root_key = ec.generate_private_key(ec.SECP256R1())
root_name = name("Persistd Test Root X1", "Persistd Test")
root = ca_cert(root_name, root_name, root_key.public_key(), root_key, 1)
alt_key = ec.generate_private_key(ec.SECP256R1())
alt_name = name("Persistd Test Alt Root X2", "Persistd Test")
alt = ca_cert(alt_name, alt_name, alt_key.public_key(), alt_key, 2)

# The intermediate's key identifier is RFC 9773's example AKI, so a leaf it issues has the
# ARI CertID of the RFC: aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE with serial 0x87654321.
ARI_KEY_ID = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
int_key = ec.generate_private_key(ec.SECP256R1())
int_name = name("Persistd Test Intermediate E1", "Persistd Test")
int_ski = x509.SubjectKeyIdentifier(ARI_KEY_ID)
inter = ca_cert(int_name, root_name, int_key.public_key(), root_key, 3, int_ski,
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()))
# The same intermediate cross-signed by the alternate root, for x509_chain_top_issuer_cn().
inter_alt = ca_cert(int_name, alt_name, int_key.public_key(), alt_key, 4, int_ski,
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(alt_key.public_key()))

leaf_key = ec.generate_private_key(ec.SECP256R1())
write("key-leaf-p256.pem", key_pem(leaf_key))


def leaf(subject, issuer, pub, signer, serial, nb, na, names=(), aki=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(pub).serial_number(serial).not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if names:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                            critical=False)
    if aki:
        b = b.add_extension(aki, critical=False)
    return b.sign(signer, hashes.SHA256())


ari_leaf = leaf(name("leaf.example.com"), int_name, leaf_key.public_key(), int_key, 0x87654321,
                datetime.datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC),
                datetime.datetime(2025, 1, 7, 11, 59, 59, tzinfo=UTC),
                ["leaf.example.com", "www.example.com", "*.wild.example.com"],
                x509.AuthorityKeyIdentifier(ARI_KEY_ID, None, None))
write("cert-ari.pem", cert_pem(ari_leaf))
write("chain-ari.pem", cert_pem(ari_leaf) + cert_pem(inter))
write("chain-ari-alt.pem", cert_pem(ari_leaf) + cert_pem(inter_alt))
write("chain-ari-full.pem", cert_pem(ari_leaf) + cert_pem(inter) + cert_pem(root))

# The second certificate loses a base64 line: mbedTLS parses the leaf and fails the rest.
lines = cert_pem(inter).decode().splitlines(keepends=True)
write("chain-corrupt.pem", cert_pem(ari_leaf).decode() + "".join(lines[:3] + lines[4:]))

# No AKI, no SAN, no subject CN; serial 5; dates at both ends of what X.509 can say:
# UTCTime 1950 and the GeneralizedTime 99991231235959Z "no expiry" of RFC 5280.
write("cert-noaki.pem", cert_pem(leaf(
    name(o="Persistd Test"), name("Persistd No AKI CA"), leaf_key.public_key(), root_key, 5,
    datetime.datetime(1950, 1, 1, tzinfo=UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))))

# The RFC 7517 RSA key in a certificate, serial 0x0102 (no 00 to add), a 2050 notAfter
# (GeneralizedTime in a normal certificate).
write("cert-rsa.pem", cert_pem(leaf(
    name("rsa.example.com"), root_name, a2.public_key(), root_key, 0x0102,
    datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime.datetime(2050, 1, 1, tzinfo=UTC), ["rsa.example.com"],
    x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()))))

# A dNSName with a NUL inside: x509_parse_leaf() must refuse it, not truncate it.
write("cert-nul-san.pem", cert_pem(leaf(
    name("nul.example.com"), root_name, leaf_key.public_key(), root_key, 6,
    datetime.datetime(2025, 1, 1, tzinfo=UTC), datetime.datetime(2025, 4, 1, tzinfo=UTC),
    ["good.example.com", "evil.example.com\x00.attacker.example"])))
