/* ctl/record.h: the offline `persistctl record generate` and
 * `persistctl record lint` commands. They use common/ only: no daemon, no
 * config, no network. argv[0] is "generate" or "lint". Both return the
 * process exit code: generate 0 on success, 2 on usage errors; lint 0 for
 * VALID, 1 for any other outcome, 2 for usage errors. */
#pragma once

int ctl_record_generate(int argc, char **argv);
int ctl_record_lint(int argc, char **argv);
