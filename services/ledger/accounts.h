// The people's accounts, kept by the ledger (docs/security.md, "Accounts"): account/<name>
// holds each, account_log/<seq> every change {seq, at, actor, verb, account}. The whole
// table goes to the broker with the ledger's registration, and again after every change
// (Context::announce), so the broker admits exactly the enabled accounts' keys.
//
// First start: an empty table gets an `admin` and an `office` account, with their key
// pairs written to <data_dir>/keys/admin.key and office.key (0600) for the operator; a
// key file already there (made by `closeloopd --init`, or a ledger rebuilt beside its
// keys) is kept and its key used.
#pragma once

#include <map>
#include <string>

#include "read_audit.h"
#include "security/accounts.h"
#include "worker/worker.h"

namespace closeloop::ledger {

class Accounts {
 public:
  void load(const Reader& store);
  // Once, at the first turn: the first accounts if there are none.
  void bootstrap(Context& ctx);
  // user.add, user.list (a read: recorded in `audit`), user.disable, user.rotate.
  void serve(Context& ctx, const wire::Request& request, ReadAudit& audit);
  // The table for the broker: an array of every account.
  std::string table() const;
  bool empty() const { return accounts_.empty(); }

 private:
  Result<security::Account> added(Context& ctx, const wire::Json& fields) const;
  void write(Context& ctx, std::string_view verb, security::Account account,
             const std::string& actor);
  void list(Context& ctx, bool history);
  std::string holder_of(const std::string& key) const;  // the account holding a key, or ""

  std::map<std::string, security::Account> accounts_;  // by name
  uint64_t next_log_ = 1;                              // meta/next_account_log
};

}  // namespace closeloop::ledger
