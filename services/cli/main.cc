// closeloop: the command-line client. One verb, one request to the broker, one reply.
//
// Contract:
//   closeloop [--endpoint URL] [--config FILE] [--timeout MS] [--actor NAME] [--json] VERB ...
//   Global options may also follow the verb. Verbs:
//     submit --title T --body B [--category C] [--source S] [--submitter P] [--key K]
//     assign ID --department CODE [--co CODE,CODE] [--due YYYY-MM-DD] [--note N]
//     return ID --department CODE --reason R
//     handle ID --department CODE --reply R --outcome solved|in-progress|planned|not-feasible
//     verify ID --rating satisfied|basically-satisfied|unsatisfied [--comment C]
//     close ID [--note N]
//     show ID | trail ID [--verify] | list [--stage S] [--department CODE] [--limit N] | ping
// - The endpoint is --endpoint, else $CLOSELOOP_ENDPOINT, else `endpoint` of the config
//   file; the timeout is --timeout, else the config's timing.request_timeout_ms (5000).
//   The config file is --config, else $CLOSELOOP_CONFIG, else <exe dir>/../../config/
//   closeloop.toml, else ./config/closeloop.toml; it is read only when the endpoint or
//   the timeout must come from it. Without one the endpoint is tcp://127.0.0.1:7400.
// - The actor is --actor, else $CLOSELOOP_ACTOR, else $USER, else "cli".
// - Only usage is checked here; field values (outcome, rating, dates, lengths) are the
//   service's to check, so its refusal is what the user sees.
// - Output: with --json one line of JSON on stdout: the item (submit .. close, show),
//   the events array (trail), the items array (list) or the reply body (ping). Without
//   it, a human-readable form. trail --verify reads the item (show) first, then checks
//   the trail's hash chain and that it reaches the item's chain head (seq, head), so a
//   trail cut short fails too; it reports on stdout (on stderr with --json, so stdout
//   stays the events array) and a failure on stderr.
// Exit codes:
//   0  done (also --help)
//   1  unexpected: an unreadable reply, an internal error
//   2  usage error (CLI11's message), a config file that cannot be loaded, a bad endpoint
//   3  refused by the service: `closeloop: <code>: <message>` on stderr
//   4  no answer within the timeout: the outcome of a command is unknown
//   5  trail --verify: the hash chain does not verify, or ends before the item's head
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "net/client.h"
#include "render.h"
#include "wire/message.h"
#include "workflow/command.h"
#include "workflow/item.h"

namespace closeloop {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;
constexpr int kExitNoAnswer = 4;
constexpr int kExitBadTrail = 5;

// Everything the command line says, filled in by CLI11.
struct Invocation {
  std::string endpoint, config, actor;
  int timeout_ms = 0;  // 0: not given
  bool json = false;
  Command command;  // the six commands; item_id also for show and trail
  bool verify = false;
  std::string stage;  // list (its --department goes to command.department)
  CLI::Option* limit = nullptr;
  uint64_t limit_value = 0;
};

enum class Shape { kItem, kTrail, kList, kPing };  // what the reply holds

struct Request {
  std::string type, body;
  Shape shape;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string default_actor() {
  for (const char* name : {"CLOSELOOP_ACTOR", "USER"})
    if (std::string value = env(name); !value.empty()) return value;
  return "cli";
}

// ---- The command line ----

CLI::App* add_verb(CLI::App& app, const char* name, const char* about) {
  return app.add_subcommand(name, about)->fallthrough();
}

void add_id(CLI::App* verb, Invocation& in) {
  verb->add_option("ID", in.command.item_id, "item id, e.g. 2026-000042")->required();
}

void define_globals(CLI::App& app, Invocation& in) {
  app.fallthrough();  // so global options may follow the verb
  app.add_option("--endpoint", in.endpoint,
                 "broker endpoint (default: $CLOSELOOP_ENDPOINT, config)");
  app.add_option("--config", in.config,
                 "config file (default: $CLOSELOOP_CONFIG, config/closeloop.toml)");
  app.add_option("--timeout", in.timeout_ms, "milliseconds to wait for an answer (default 5000)")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--actor", in.actor, "who acts (default: $CLOSELOOP_ACTOR, $USER, cli)");
  app.add_flag("--json", in.json, "print the reply as one line of JSON");
}

void define_verbs(CLI::App& app, Invocation& in) {
  Command& c = in.command;
  CLI::App* v = add_verb(app, "submit", "file a new item");
  v->add_option("--title", c.title, "title (at most 200 characters)")->required();
  v->add_option("--body", c.body, "the item's text")->required();
  v->add_option("--category", c.category, "category code, e.g. transport");
  v->add_option("--source", c.source, "where the item came from");
  v->add_option("--submitter", c.submitter, "who raised it");
  v->add_option("--key", c.key, "idempotency key: a retried submit returns the same item");

  v = add_verb(app, "assign", "assign a submitted item to a lead department");
  add_id(v, in);
  v->add_option("--department", c.department, "lead department code")->required();
  v->add_option("--co", c.co_departments, "co-departments, comma-separated")
      ->delimiter(',')
      ->allow_extra_args(false);
  v->add_option("--due", c.due, "due date YYYY-MM-DD");
  v->add_option("--note", c.note, "a note for the department");

  v = add_verb(app, "return", "return an assigned item to the office (wrong department)");
  add_id(v, in);
  v->add_option("--department", c.department, "the lead department returning it")->required();
  v->add_option("--reason", c.reason, "why")->required();

  v = add_verb(app, "handle", "record the lead department's reply");
  add_id(v, in);
  v->add_option("--department", c.department, "the lead department")->required();
  v->add_option("--reply", c.reply, "the reply to the submitter")->required();
  v->add_option("--outcome", c.outcome, "solved | in-progress | planned | not-feasible")
      ->required();

  v = add_verb(app, "verify", "record the submitter's rating of the reply");
  add_id(v, in);
  v->add_option("--rating", c.rating, "satisfied | basically-satisfied | unsatisfied")->required();
  v->add_option("--comment", c.comment, "the submitter's comment");

  v = add_verb(app, "close", "close a verified item");
  add_id(v, in);
  v->add_option("--note", c.note, "a closing note");

  add_id(add_verb(app, "show", "show an item"), in);

  v = add_verb(app, "trail", "show an item's audit trail");
  add_id(v, in);
  v->add_flag("--verify", in.verify, "check the trail's hash chain (exit 5 if broken)");

  v = add_verb(app, "list", "list items");
  v->add_option("--stage", in.stage, "submitted | assigned | handled | verified | closed");
  v->add_option("--department", c.department, "lead department code");
  in.limit = v->add_option("--limit", in.limit_value, "at most this many items");

  add_verb(app, "ping", "list the live services");
}

Request build_request(const std::string& verb, Invocation& in) {
  if (verb == "show" || verb == "trail") {
    std::string body = wire::MapBuilder().add("item", in.command.item_id).finish();
    return {verb, body, verb == "show" ? Shape::kItem : Shape::kTrail};
  }
  if (verb == "list") {
    wire::MapBuilder body;
    body.add_nonempty("stage", in.stage).add_nonempty("department", in.command.department);
    if (in.limit->count() > 0) body.add("limit", in.limit_value);
    return {verb, body.finish(), Shape::kList};
  }
  if (verb == "ping") return {verb, wire::empty_map(), Shape::kPing};
  in.command.verb = verb;
  return {verb, encode_command_body(in.command), Shape::kItem};
}

// ---- Where to connect ----

struct Target {
  std::string endpoint;
  int timeout_ms = 0;
  int64_t max_message_bytes = 1 << 20;
};

// The config file to read: named by the user, else found next to the build tree or in
// the working directory; empty if there is none.
std::string find_config(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (std::string named = env("CLOSELOOP_CONFIG"); !named.empty()) return named;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) candidates.push_back(exe.parent_path() / "../../config/closeloop.toml");
  candidates.push_back("config/closeloop.toml");
  for (const fs::path& p : candidates)
    if (::access(p.c_str(), R_OK) == 0) return p.lexically_normal().string();
  return "";
}

Result<Target> resolve_target(const Invocation& in) {
  Target t{in.endpoint.empty() ? env("CLOSELOOP_ENDPOINT") : in.endpoint, in.timeout_ms};
  if (!t.endpoint.empty() && t.timeout_ms > 0) return t;
  Config config;  // its defaults: tcp://127.0.0.1:7400, 5000 ms
  if (std::string path = find_config(in.config); !path.empty()) {
    auto loaded = load_config(path);
    if (!loaded) return loaded.error();
    config = std::move(*loaded);
    t.max_message_bytes = config.max_message_bytes;
  }
  if (t.endpoint.empty()) t.endpoint = config.endpoint;
  if (t.timeout_ms <= 0) t.timeout_ms = config.timing.request_timeout_ms;
  return t;
}

// ---- The reply ----

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "closeloop: %s\n", message.c_str());
  return code;
}

// Where the item says its chain ends: the seq and hash of its last event.
struct ChainHead {
  uint64_t seq = 0;
  std::string hash;
};

// Checks the trail's hash chain, then that it reaches the head the item carries: a
// trail cut short verifies as a chain but ends before the item's seq. The item is read
// before the trail, so a command acknowledged in between only makes the trail longer;
// the item's head must then be one of its events.
int verify_trail(const std::string& id, const msgpack::object& events, const ChainHead& head,
                 bool json) {
  std::vector<Event> trail;
  for (uint32_t i = 0; i < events.via.array.size; ++i) {
    auto event = decode_event(events.via.array.ptr[i]);
    if (!event) break;  // an unreadable event fails at its position
    trail.push_back(std::move(*event));
  }
  uint64_t bad = first_bad_seq(trail);
  if (bad == 0 && (trail.empty() || trail.size() < events.via.array.size)) bad = trail.size() + 1;
  if (bad != 0) {
    std::fprintf(stderr, "trail of %s FAILS verification at seq %llu\n", id.c_str(),
                 static_cast<unsigned long long>(bad));
    return kExitBadTrail;
  }
  if (head.seq == 0 || head.seq > trail.size()) {
    std::fprintf(stderr,
                 "trail of %s FAILS verification: the trail ends at seq %zu but the item is at "
                 "seq %llu\n",
                 id.c_str(), trail.size(), static_cast<unsigned long long>(head.seq));
    return kExitBadTrail;
  }
  if (const Event& at = trail[head.seq - 1]; at.hash != head.hash) {
    std::fprintf(stderr,
                 "trail of %s FAILS verification at seq %llu: the item's head is %s but the "
                 "trail's event %llu has hash %s\n",
                 id.c_str(), static_cast<unsigned long long>(head.seq), head.hash.c_str(),
                 static_cast<unsigned long long>(head.seq), at.hash.c_str());
    return kExitBadTrail;
  }
  std::fprintf(json ? stderr : stdout, "trail of %s verifies: %zu events, head %s\n", id.c_str(),
               trail.size(), trail.back().hash.c_str());
  return kExitOk;
}

int print_reply(const Request& request, const wire::Reply& reply, const Invocation& in,
                const ChainHead& head) {
  wire::Fields f(reply.body, "reply body");
  const msgpack::object* value = &reply.body;
  if (request.shape == Shape::kItem) value = &f.map("item");
  if (request.shape == Shape::kTrail) value = &f.array("events");
  if (request.shape == Shape::kList) value = &f.array("items");
  if (!f.ok()) return fail(kExitInternal, "unreadable reply: " + f.error().message);

  nlohmann::json json = cli::to_json(*value);
  if (in.json) {
    std::printf("%s\n", cli::dump(json).c_str());
  } else {
    switch (request.shape) {
      case Shape::kItem:
        cli::print_item(json);
        break;
      case Shape::kTrail:
        cli::print_trail(json);
        break;
      case Shape::kList:
        cli::print_list(json);
        break;
      case Shape::kPing:
        cli::print_ping(json);
        break;
    }
  }
  std::fflush(stdout);
  if (request.shape == Shape::kTrail && in.verify)
    return verify_trail(in.command.item_id, *value, head, in.json);
  return kExitOk;
}

// One request and its answer; on a failure, the exit code (its message already written).
struct Answer {
  std::optional<wire::Reply> reply;
  int exit_code = kExitOk;
};

Answer answer_of(Result<wire::Reply>& reply, const Target& target) {
  if (!reply && reply.error().code == errc::kTimeout) {
    // A broker that kept answering "unavailable" or "in_transit" says so in the message.
    const std::string& why = reply.error().message;
    return {std::nullopt,
            fail(kExitNoAnswer, "no answer from " + target.endpoint + " within " +
                                    std::to_string(target.timeout_ms) + " ms" +
                                    (why.starts_with("gave up") ? " (" + why + ")" : ""))};
  }
  if (!reply)
    return {std::nullopt, fail(kExitInternal, "unreadable reply: " + reply.error().message)};
  if (!reply->ok)
    return {std::nullopt, fail(kExitRefused, reply->error.code + ": " + reply->error.message)};
  return {std::move(*reply), kExitOk};
}

Answer call(Client& client, const Target& target, const std::string& actor, const std::string& type,
            const std::string& body) {
  auto reply = client.call(type, actor, body);
  return answer_of(reply, target);
}

// A trail or a list, all of it (or `limit` entries), through Client::call_pages.
Answer call_paged(Client& client, const Target& target, const std::string& actor,
                  const Request& request, const char* key, const char* cursor, uint64_t limit) {
  auto reply = client.call_pages(request.type, actor, request.body, key, cursor, limit);
  return answer_of(reply, target);
}

// The item of a show reply.
Result<Item> item_of(const wire::Reply& reply) {
  wire::Fields f(reply.body, "reply body");
  const msgpack::object& map = f.map("item");
  if (!f.ok()) return f.error();
  return decode_item(map);
}

int run(const std::string& verb, Invocation& in) {
  auto target = resolve_target(in);
  if (!target) return fail(kExitUsage, target.error().message);
  Request request = build_request(verb, in);

  std::optional<Client> client;
  try {
    client.emplace(target->endpoint, target->timeout_ms, target->max_message_bytes);
  } catch (const zmq::error_t& e) {
    return fail(kExitUsage, "bad endpoint '" + target->endpoint + "': " + e.what());
  }
  ChainHead head;
  if (request.shape == Shape::kTrail && in.verify) {  // the item first: see verify_trail
    Answer shown = call(*client, *target, in.actor, "show", request.body);
    if (!shown.reply) return shown.exit_code;
    auto item = item_of(*shown.reply);
    if (!item) return fail(kExitInternal, "unreadable reply: " + item.error().message);
    head = {item->seq, item->head};
  }
  Answer answer;
  if (request.shape == Shape::kTrail) {
    answer = call_paged(*client, *target, in.actor, request, "events", "seq", UINT64_MAX);
  } else if (request.shape == Shape::kList) {
    uint64_t limit = in.limit->count() > 0 ? in.limit_value : UINT64_MAX;
    answer = call_paged(*client, *target, in.actor, request, "items", "id", limit);
  } else {
    answer = call(*client, *target, in.actor, request.type, request.body);
  }
  if (!answer.reply) return answer.exit_code;
  return print_reply(request, *answer.reply, in, head);
}

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  using namespace closeloop;
  CLI::App app{"closeloop: file, assign, handle, verify and close items; show their trails"};
  Invocation in;
  in.actor = default_actor();
  define_globals(app, in);
  define_verbs(app, in);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return kExitUsage;
  }
  try {
    return run(app.get_subcommands().front()->get_name(), in);
  } catch (const std::exception& e) {
    return fail(kExitInternal, std::string("internal error: ") + e.what());
  }
}
