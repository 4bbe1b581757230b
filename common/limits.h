/* common/limits.h: every bound on input read from the network, the control
 * socket or a file, in one place. Units are in the names. A value over a
 * limit is an error (-E2BIG), never a truncation. */
#pragma once

/* dns-persist-01 records */
#define RECORD_MAX_BYTES 4096         /* one TXT RR, strings joined */
#define RECORD_MAX_RRS 64             /* TXT RRs at one label that we evaluate */
#define RECORD_MAX_PARAMS 32          /* parameters in one record */
#define RECORD_MAX_ISSUERS 10         /* issuer-domain-names per challenge (spec 3.1) */
#define DNS_NAME_MAX_BYTES 253        /* presentation form, no trailing dot */
#define TXT_STRING_MAX_BYTES 255      /* one character-string */

/* configuration */
#define CONFIG_MAX_BYTES (1024 * 1024)     /* one config file */
#define CONFIG_MAX_DROPINS 100000          /* files in certs.d */
#define CONFIG_MAX_NAMES_PER_CERT 100      /* SANs in one cert section */
#define CONFIG_MAX_VALUE_BYTES 4096        /* one value */

/* JSON */
#define JSON_MAX_DEPTH 32                  /* nesting accepted from any peer */

/* control socket */
#define CTL_MAX_REQUEST_BYTES (64 * 1024)  /* one JSON-RPC line */
#define CTL_MAX_CONNS 128
#define CTL_IDLE_MS (60 * 1000)            /* a client silent this long is dropped */
#define CTL_MAX_PENDING_OUT_BYTES (8 * 1024 * 1024) /* unread replies per client */
#define CTL_MAX_RESPONSE_BYTES (64 * 1024 * 1024)   /* what persistctl accepts */

/* ACME */
#define ACME_MAX_BODY_BYTES (1024 * 1024)
#define ACME_MAX_HEADER_BYTES (16 * 1024)
#define ACME_MAX_NONCES 16
#define ACME_HTTP_TIMEOUT_MS (30 * 1000)
#define ACME_CONNECT_TIMEOUT_MS (10 * 1000)

/* files */
#define KEY_MAX_BYTES (64 * 1024)          /* a PEM private key */
#define CERT_MAX_BYTES (1024 * 1024)       /* a PEM chain */
#define STATE_MAX_BYTES (256 * 1024 * 1024) /* state.json */
#define NAMES_FILE_MAX_BYTES (64 * 1024 * 1024) /* persistctl check --file */

/* DNS checker (common/dnscheck, common/caa) */
#define CAA_MAX_RRS 64                     /* CAA RRs at one name that we evaluate */
#define CAA_MAX_PARAMS 32                  /* parameters in one issue value */
#define DNSCHECK_MAX_INFLIGHT 4096         /* queries in flight (one UDP socket each) */
#define DNSCHECK_DEFAULT_INFLIGHT 256
#define DNSCHECK_FD_RESERVE 64             /* descriptors kept free of the window */
#define DNSCHECK_MAX_QUEUED 1000000        /* names waiting to be checked */
#define DNSCHECK_MAX_RESOLVERS 8           /* --resolver addresses */
#define DNSCHECK_MAX_CNAME_HOPS 8          /* CNAMEs followed for one lookup */
#define DNSCHECK_MAX_AUTH_SERVERS 16       /* authoritative addresses asked per zone */
#define DNSCHECK_MAX_AUTH_CONTEXTS 256     /* distinct authoritative addresses in one run */
#define DNSCHECK_MAX_CACHE_ENTRIES 65536   /* memoised CAA/NS/A lookups */
#define DNSCHECK_SIGMEMO_MAX (1u << 19)    /* signatures remembered as verified (16 B each) */
#define DNSCHECK_CACHE_MS (60 * 1000)      /* how long a memoised lookup is reused */
#define DNSCHECK_DEFAULT_TIMEOUT_MS (5 * 1000)
#define DNSCHECK_MAX_TIMEOUT_MS (120 * 1000)
#define TRUST_ANCHOR_MAX_BYTES (64 * 1024) /* a trust anchor file */

/* ACME objects (daemon/acme/msg) and the wire (daemon/acme/http, transport) */
#define ACME_MAX_URL_BYTES 4096            /* one URL in an ACME object or header */
#define ACME_MAX_TEXT_BYTES (16 * 1024)    /* one free-text field (detail, description) */
#define ACME_MAX_IDENTIFIERS 1000          /* identifiers, authorizations in one order */
#define ACME_MAX_CHALLENGES 32             /* challenges in one authorization */
#define ACME_MAX_CONTACTS 32               /* contact URIs of one account */
#define ACME_MAX_SUBPROBLEMS 1000          /* subproblems of one problem document */
#define ACME_MAX_PROFILES 64               /* directory meta.profiles entries */
#define ACME_MAX_CAA_IDENTITIES 64         /* directory meta.caaIdentities entries */
#define ACME_MAX_LINKS 16                  /* Link rel="alternate" values kept per response */
#define ACME_MAX_NONCE_BYTES 256           /* a longer Replay-Nonce is ignored */
#define ACME_MAX_ORDERS_PAGE 1000          /* order URLs in one page of an account's orders */
#define ACME_MAX_ORDERS_PAGES 5            /* pages of the orders list read to find an orphan */
#define ACME_MAX_ORDERS_PROBED 20          /* orders fetched (newest first) to find an orphan */
#define DNSCHECK_MAX_ATTEMPTS 16           /* attempts for one question, all resolvers */
#define DNSCHECK_FIRST_ATTEMPT_MS 1000     /* the first attempt's timeout at most */

/* HTTP listener (daemon/httpd) */
#define HTTPD_MAX_CONNS 32                 /* connections at once */
#define HTTPD_MAX_CONNS_PER_IP 16
#define HTTPD_CONN_MEMORY_BYTES (32 * 1024) /* request line + headers of one request */
#define HTTPD_IDLE_SEC 30                  /* an idle connection is closed */

/* check_served (daemon/served): one TLS handshake with the operator's server */
#define SERVED_TIMEOUT_MS (10 * 1000)      /* resolve, connect and handshake, all told */
#define SERVED_MAX_BYTES (256 * 1024)      /* read from the server before giving up */
