// closeloop checkpoint: the ledger's latest signed checkpoint (--json: the file an auditor
// keeps), and with --consistency OLD the proof, checked here, that the ledger's tree
// extends the one OLD signed. bundle takes its checkpoint through the same calls.
#include <fstream>
#include <sstream>

#include "cli.h"
#include "render.h"
#include "terminal.h"

namespace closeloop::cli {

namespace {

std::vector<std::string> hex_list(const std::vector<security::Hash>& hashes) {
  std::vector<std::string> out;
  for (const security::Hash& h : hashes) out.push_back(security::to_hex(h));
  return out;
}

// The reply's checkpoint and proof, or why they are not what the ledger should send.
Result<Tree> tree_of(const wire::Reply& reply) {
  wire::Json body = wire::to_json(reply.body);
  auto checkpoint = security::checkpoint_from_json(body.value("checkpoint", wire::Json()));
  if (!checkpoint) return checkpoint.error();
  Tree tree{std::move(*checkpoint), {}};
  for (const wire::Json& hex : body.value("proof", wire::Json::array())) {
    auto hash = hex.is_string() ? security::hash_from_hex(hex.get<std::string>()) : std::nullopt;
    if (!hash) return Error{errc::kInternal, "the consistency proof holds something not a hash"};
    tree.proof.push_back(*hash);
  }
  return tree;
}

std::string describe(const security::Checkpoint& c) {
  return "size " + std::to_string(c.size) + " (" + c.at + ")";
}

}  // namespace

Result<security::Checkpoint> read_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{errc::kInvalid, "cannot read " + path + ": " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  wire::Json json = wire::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return Error{errc::kInvalid, path + " is not JSON (closeloop checkpoint --json writes one)"};
  auto checkpoint = security::checkpoint_from_json(json, /*check_signature=*/false);
  if (!checkpoint) return Error{errc::kInvalid, path + ": " + checkpoint.error().message};
  return checkpoint;
}

int fetch_tree(Client& client, const Target& target, const Invocation& in, bool fresh,
               const security::Checkpoint* old, Tree& out) {
  wire::MapBuilder body;
  if (fresh) body.add("fresh", true);
  if (old) body.add("old_size", old->size);
  auto reply = client.call("checkpoint", in.actor, body.finish());
  if (old && reply && !reply->ok && reply->error.code == errc::kInvalid)  // a smaller tree
    return fail(kExitBadTrail, "NOT consistent with the checkpoint of " + describe(*old) + ": " +
                                   reply->error.message);
  Answer a = answer_of(reply, target);
  if (!a.reply) return a.exit_code;
  auto tree = tree_of(*a.reply);
  if (!tree) return fail(kExitBadTrail, "the ledger's checkpoint FAILS: " + tree.error().message);
  out = std::move(*tree);
  return kExitOk;
}

std::string inconsistency(const security::Checkpoint& old, const Tree& tree) {
  const security::Checkpoint& now = tree.checkpoint;
  if (now.key != old.key)
    return "the ledger's checkpoint is signed by another key (" + now.key + ") than the one of " +
           describe(old) + " (" + old.key + ")";
  if (!security::verify_consistency(old.size, old.root, now.size, now.root, tree.proof))
    return "the ledger's tree of " + describe(now) + " does not extend the one of " +
           describe(old) + ": history was rewritten, or they are different ledgers";
  return "";
}

int run_checkpoint(Client& client, const Target& target, const Invocation& in,
                   const wire::Json& fields) {
  std::optional<security::Checkpoint> old;
  if (fields.contains("consistency")) {
    std::string path = fields["consistency"].get<std::string>();
    auto read = read_checkpoint_file(path);
    if (!read) return fail(kExitUsage, read.error().message);
    if (!security::verify_signature(*read))
      return fail(kExitBadTrail, path +
                                     ": its signature does not verify: the ledger never "
                                     "signed this size, root and time");
    old = std::move(*read);
  }
  Tree tree;
  if (int code =
          fetch_tree(client, target, in, fields.contains("fresh"), old ? &*old : nullptr, tree);
      code != kExitOk)
    return code;
  wire::Json now = security::to_json(tree.checkpoint);
  if (!old) {
    in.json ? print_json(now) : print_checkpoint(now);
    return kExitOk;
  }
  if (std::string why = inconsistency(*old, tree); !why.empty())
    return fail(kExitBadTrail, "NOT consistent: " + why);
  if (in.json) {
    print_json({{"consistent", true},
                {"old", security::to_json(*old)},
                {"checkpoint", now},
                {"proof", hex_list(tree.proof)}});
  } else {
    print_line("consistent: size " + std::to_string(tree.checkpoint.size) + " extends size " +
               std::to_string(old->size) + " (checkpoints of " + tree.checkpoint.at + " and " +
               old->at + ", key " + old->key + ")");
  }
  return kExitOk;
}

}  // namespace closeloop::cli
