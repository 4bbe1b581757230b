/* ctl/lifecycle.h: the persistctl commands of a certificate's life cycle:
 * add and remove (a drop-in certs.d/NAME.conf beside the daemon's config,
 * written by persistctl itself, then a reload) and revoke (through the
 * daemon).
 *
 * Who writes the drop-in: persistctl, run as root beside the daemon. The
 * daemon runs sandboxed (ProtectSystem=strict, Landlock) and cannot write
 * /etc/persistd; the configuration stays the operator's, and persistctl
 * add writes exactly what an operator would, validated first by the same
 * parser as persistd -t (common/config) with the new file in place, then
 * atomically (common/fileio: temp file NAME.conf.tmp.XXXXXX, which the
 * loader ignores, fsync, rename, fsync of certs.d). The configuration is
 * the one named by -c, else the one the daemon runs with (control method
 * config.path), else /etc/persistd/persistd.conf.
 *
 * Exit codes: 0 done; 1 the daemon or the CA refused or failed (the message
 * says what, and what was left as it was); 2 bad input or a usage error,
 * with nothing changed (no file left behind), or permission denied; 3 the
 * daemon gave no answer to a call that needed one (ctl/remotecall.h).
 * add and remove succeed without a running daemon (the change applies at
 * its next start, and they say so), except remove --revoke and --purge,
 * which need it. revoke and remove --revoke/--purge run only with --yes. */
#pragma once

#include "ctl/remotecall.h"

int ctl_add(const struct remote_options *o, int argc, char **argv);
int ctl_remove(const struct remote_options *o, int argc, char **argv);
int ctl_revoke(const struct remote_options *o, int argc, char **argv);
