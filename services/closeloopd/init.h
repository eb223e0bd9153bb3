// `closeloopd --init`: makes the data dir and every key the service would make at its
// first start, and starts nothing. For a package's postinst (run as the service's user)
// or an operator preparing a host: the admin's key exists, and can be handed over, before
// the service first runs.
//
// Made in <data_dir>/keys/ (data_dir and keys/ made mode 0750 if missing), with the same
// code the processes run at their first start:
//   - every process's CURVE pair NAME.key (0600) + NAME.pub, with security.mode = "curve"
//     (security::own_key_pair, as the broker and the workers call it);
//   - the ledger's checkpoint signing key, ledger.signing (0600; security::own_signing_key);
//   - the first accounts' keys, admin.key and office.key (0600; security::own_account_key):
//     the ledger's first start makes the `admin` and `office` accounts with these keys.
// Idempotent: a key already there is kept (read, so a broken one is reported). Prints one
// line per key (made or kept) and where the admin's key is, on stdout.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace closeloop {

// `executables`: the processes closeloopd starts (closeloop-broker, closeloop-ledger…),
// whose keys are named without the prefix (broker.key…). Returns the exit code: 0 done,
// 1 a directory or key that could not be made or read (said on stderr).
int init_data_dir(const Config& config, const std::vector<std::string>& executables);

}  // namespace closeloop
