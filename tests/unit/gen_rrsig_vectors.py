#!/usr/bin/python3
"""Writes tests/unit/rrsig_vectors.h: DNS replies signed by dnspython (an
implementation of RFC 4034's canonical form that is not ours), for
test_rrsig. Run again only to change the vectors:
    /usr/bin/python3 tests/unit/gen_rrsig_vectors.py > tests/unit/rrsig_vectors.h
Keys are made fresh each run; the header records everything the test needs.
"""
import sys

import dns.dnssec
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import dns.version
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ZONE = dns.name.from_text("example.test.")
OWNER = dns.name.from_text("_validation-persist.www.example.test.")
MIXED = dns.name.from_text("_Validation-PERSIST.Www.Example.TEST.")
INCEPTION = 1_700_000_000
EXPIRATION = 1_900_000_000
NOW = 1_800_000_000


def key_for(alg):
    if alg == 8:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == 13:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == 14:
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def reply(qname, answers):
    q = dns.message.make_query(qname, "TXT", want_dnssec=True)
    r = dns.message.make_response(q)
    for a in answers:
        r.answer.append(a)
    return r.to_wire()


def c_bytes(b):
    rows = [", ".join(f"0x{x:02x}" for x in b[i:i + 12]) for i in range(0, len(b), 12)]
    return "\n\t" + ",\n\t".join(rows) + "\n"


def sign(rrset, priv, dnskey, signer=ZONE):
    return dns.dnssec.sign(rrset, priv, signer, dnskey, inception=INCEPTION,
                           expiration=EXPIRATION)


out = ["/* tests/unit/rrsig_vectors.h: made by gen_rrsig_vectors.py (dnspython "
       f"{dns.version.version}). */",
       "#pragma once", "#include <stddef.h>", "#include <stdint.h>", "",
       f"#define RV_NOW {NOW}u", f"#define RV_EXPIRATION {EXPIRATION}u",
       f"#define RV_INCEPTION {INCEPTION}u", "",
       "struct rrsig_vector {", "\tconst char *what;", "\tuint8_t alg;",
       "\tconst uint8_t *msg;", "\tsize_t msg_len;", "\tconst uint8_t *key;",
       "\tsize_t key_len;", "\tint secure; /* what rrsig_check must say */", "};", ""]
vectors = []
for alg in (8, 13, 14, 15):
    priv = key_for(alg)
    dnskey = dns.dnssec.make_dnskey(priv.public_key(), alg, flags=257)
    # Two RRs, in the message in the order that is not canonical, under
    # an owner written in mixed case: both must be normalised.
    txt = dns.rrset.from_text(MIXED, 300, "IN", "TXT", '"zz second"',
                              '"ca.test; accounturi=https://ca.test/acct/1"')
    sig = sign(dns.rrset.from_text(OWNER, 300, "IN", "TXT", '"zz second"',
                                   '"ca.test; accounturi=https://ca.test/acct/1"'),
               priv, dnskey)
    sig_rrset = dns.rrset.from_rdata(MIXED, 300, sig)
    vectors.append((f"alg {alg}", alg, reply(MIXED, [txt, sig_rrset]), dnskey, 1))
    if alg == 13:
        # The same RRset with one byte changed under the intact signature.
        bad = dns.rrset.from_text(MIXED, 300, "IN", "TXT", '"zz secone"',
                                  '"ca.test; accounturi=https://ca.test/acct/1"')
        vectors.append(("changed data", alg, reply(MIXED, [bad, sig_rrset]), dnskey, 0))
        # A CNAME in the answer: the validator's job.
        cn = dns.rrset.from_text(MIXED, 300, "IN", "CNAME", "elsewhere.example.test.")
        vectors.append(("cname in answer", alg, reply(MIXED, [cn, txt, sig_rrset]),
                        dnskey, 0))
        # A wildcard expansion (RRSIG labels below the owner's): a good
        # signature over exactly these bytes, labels field included, but
        # the proof that the name itself does not exist is the
        # validator's to check, so it must not count here.
        w_rrset = dns.rrset.from_text(OWNER, 300, "IN", "TXT", '"w"')
        tmpl = dns.rdtypes.ANY.RRSIG.RRSIG(
            dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.TXT, alg, 2, 300,
            EXPIRATION, INCEPTION, dns.dnssec.key_id(dnskey), ZONE, b"")
        # dnspython would sign the expanded "*.example.test" form; these are
        # the bytes a checker that ignored the labels field would verify.
        lit = dns.dnssec._make_rrsig_signature_data(w_rrset, tmpl.replace(labels=4))
        data = lit[:3] + bytes([2]) + lit[4:]
        r, s_ = decode_dss_signature(priv.sign(data, ec.ECDSA(hashes.SHA256())))
        wsig = tmpl.replace(signature=r.to_bytes(32, "big") + s_.to_bytes(32, "big"))
        vectors.append(("wildcard", alg,
                        reply(OWNER, [w_rrset, dns.rrset.from_rdata(OWNER, 300, wsig)]),
                        dnskey, 0))
        # The same construction with the owner's own label count: secure.
        # (So "wildcard" above fails on its labels alone.)
        tmpl4 = tmpl.replace(labels=4)
        data4 = dns.dnssec._make_rrsig_signature_data(w_rrset, tmpl4)
        r, s_ = decode_dss_signature(priv.sign(data4, ec.ECDSA(hashes.SHA256())))
        sig4 = tmpl4.replace(signature=r.to_bytes(32, "big") + s_.to_bytes(32, "big"))
        vectors.append(("hand-made, labels 4", alg,
                        reply(OWNER, [w_rrset, dns.rrset.from_rdata(OWNER, 300, sig4)]),
                        dnskey, 1))
        # Signed by the zone's key, but named as signed by a name that is
        # not above the owner.
        other = dns.name.from_text("other.test.")
        osig = sign(dns.rrset.from_text(OWNER, 300, "IN", "TXT", '"o"'), priv, dnskey,
                    signer=other)
        o_rrset = dns.rrset.from_text(OWNER, 300, "IN", "TXT", '"o"')
        vectors.append(("signer not above owner", alg,
                        reply(OWNER, [o_rrset, dns.rrset.from_rdata(OWNER, 300, osig)]),
                        dnskey, 0))
        # No RRSIG at all.
        vectors.append(("unsigned", alg, reply(MIXED, [txt]), dnskey, 0))

for i, (what, alg, msg, dnskey, secure) in enumerate(vectors):
    out.append(f"static const uint8_t rv_msg_{i}[] = {{{c_bytes(msg)}}};")
    out.append(f"static const uint8_t rv_key_{i}[] = {{{c_bytes(dnskey.to_digestable())}}};")
out.append("")
out.append("static const struct rrsig_vector rrsig_vectors[] = {")
for i, (what, alg, msg, dnskey, secure) in enumerate(vectors):
    out.append(f'\t{{ "{what}", {alg}, rv_msg_{i}, sizeof(rv_msg_{i}), rv_key_{i}, '
               f"sizeof(rv_key_{i}), {secure} }},")
out.append("};")
sys.stdout.write("\n".join(out) + "\n")
