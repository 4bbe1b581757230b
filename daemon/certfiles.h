/* daemon/certfiles.h: what `persistctl show` lists of a cert's files, like
 * `certbot certificates`: every path of the current version (privkey.pem too:
 * its path, never its content), where `current` points, the archive versions
 * kept (archive_keep) and the key type, read from the certificate's public key
 * so that the private key is never opened for it.
 * Local files only: the host's state_dir, whatever the store backend, as the
 * deployed copies are local (daemon/store). Blocking reads of small files,
 * as daemon/store's. Nothing here fails the caller: what cannot be read is null. */
#pragma once

struct json_writer;
struct store;

/* Writes the members "files", "archive_versions" and "key" into the open object. */
void certfiles_write_json(struct json_writer *w, struct store *s, const char *cert);
