// The people's accounts, kept by the ledger (docs/security.md, "Accounts"): account/<name>
// holds each, account_log/<seq> every change {seq, at, actor, verb, account}, and every
// change is a leaf of the Merkle tree (ledger/checkpoints.h). The whole table goes to the
// broker with the ledger's registration, and again after every change (Context::announce),
// so the broker admits exactly the enabled accounts' keys.
//
// An account is what its log says: at start, an account whose stored record differs from
// its last logged change (or has none) is not admitted — left out of the table, logged and
// reported — until an admin changes it again (which records it anew from its logged state).
//
// First start: an empty table gets an `admin` and an `office` account, with their key
// pairs written to <data_dir>/keys/admin.key and office.key (0600) for the operator; a
// key file already there (made by `closeloopd --init`, or a ledger rebuilt beside its
// keys) is kept and its key used.
#pragma once

#include <map>
#include <string>

#include "checkpoints.h"
#include "read_audit.h"
#include "security/accounts.h"
#include "worker/worker.h"

namespace closeloop::ledger {

class Accounts {
 public:
  explicit Accounts(Checkpoints& tree) : tree_(tree) {}
  void load(const Reader& store);
  // Once, at the first turn: the first accounts if there are none.
  void bootstrap(Context& ctx);
  // user.add, user.list (a read: recorded in `audit`), user.disable, user.rotate.
  void serve(Context& ctx, const wire::Request& request, ReadAudit& audit);
  // The table for the broker: an array of every account.
  std::string table() const;
  bool empty() const { return accounts_.empty(); }
  // The accounts not admitted because their record differs from their log: name -> why.
  const std::map<std::string, std::string>& refused() const { return refused_; }

 private:
  Result<security::Account> added(Context& ctx, const wire::Json& fields) const;
  void write(Context& ctx, std::string_view verb, security::Account account,
             const std::string& actor);
  void list(Context& ctx, bool history);
  std::string holder_of(const std::string& key) const;  // the account holding a key, or ""
  std::string encoded(bool with_refused) const;

  Checkpoints& tree_;
  std::map<std::string, security::Account> accounts_;  // by name, as their logs say
  std::map<std::string, std::string> refused_;         // by name: why not admitted
  uint64_t next_log_ = 1;                              // meta/next_account_log
};

// Each account's record as its log of changes makes it (the last change's), by name.
std::map<std::string, std::string> logged_accounts(const Reader& store);
// The accounts whose stored record differs from their last logged change, or that have a
// record and no change logged (or changes and no record): name -> why; empty when every one
// agrees. Reads only `store`: on the reader thread too.
std::map<std::string, std::string> accounts_unlike_their_log(const Reader& store);

}  // namespace closeloop::ledger
