/* ctl/check.h: `persistctl check --direct NAME...`: asks DNS directly (no
 * daemon, no config file) what a CA will see at _validation-persist.<name>,
 * through common/dnscheck on a loop of its own, and prints per name the
 * outcome and its reason, the record found, policy=wildcard, persistUntil
 * with days left, the DNSSEC status, the CAA verdict and, with
 * --authoritative, every authoritative server's answer. --json prints an
 * array of objects with the same facts. Names from --file are checked
 * concurrently, with a progress line when stderr is a TTY; results are
 * printed in input order.
 *
 * Returns the exit code (monitoring-plugin convention): 0 all VALID and not
 * expiring, 1 a warning, 2 critical or failing, 3 cannot tell (DNS errors,
 * usage errors). argv[0] is "check". */
#pragma once

int ctl_check_direct(int argc, char **argv);
