#include "incidents.h"

#include <algorithm>
#include <memory>

#include "net/backend.h"
#include "security/rights.h"
#include "worker/incidents.h"

namespace closeloop::ledger {

namespace {

security::ItemFacts facts_of(const wire::Json& item) {
  security::ItemFacts facts;
  facts.department = item.value("department", "");
  facts.co_departments = item.value("co_departments", std::vector<std::string>{});
  facts.deputy = item.value("deputy", "");
  facts.source = item.value("source", "");
  facts.kind = item.value("kind", "");
  return facts;
}

// An entry's contents go only to those who may show its item; ops see who sent what
// and why it was held, not the citizen's text.
void cut_contents(const security::Actor& actor, wire::Json& incident) {
  auto entry = incident.find("entry");
  if (entry == incident.end()) return;
  bool readable = entry->is_object() && entry->contains("item") && (*entry)["item"].is_object() &&
                  security::reaches(actor, "show", facts_of((*entry)["item"]));
  if (!readable) incident.erase(entry);
}

// The answers of every worker to one request, merged when the last comes in.
class Gathering {
 public:
  Gathering(security::Actor actor, std::string verb)
      : actor_(std::move(actor)), verb_(std::move(verb)) {}

  // Takes `worker`'s answer; true when it was the last one.
  bool take(std::string_view worker, Result<wire::Reply>& reply) {
    if (!reply || !reply->ok) {
      unreachable_.push_back(
          {{"worker", worker}, {"error", reply ? reply->error.message : reply.error().message}});
    } else if (verb_ == "incidents") {
      for (wire::Json& incident :
           wire::to_json(reply->body).value("incidents", wire::Json::array())) {
        cut_contents(actor_, incident);
        incidents_.push_back(std::move(incident));
      }
    } else {
      replayed_.push_back(wire::to_json(reply->body));
    }
    return ++answers_ == std::size(backend::kWorkers);
  }

  std::string answer() {
    std::stable_sort(incidents_.begin(), incidents_.end(), [](const auto& a, const auto& b) {
      return a.value("at", "") < b.value("at", "");
    });
    wire::Json out = {{"unreachable", unreachable_}};
    if (verb_ == "incidents") {
      out["incidents"] = std::move(incidents_);
    } else {
      out["workers"] = std::move(replayed_);
    }
    return wire::encode_json(out);
  }

 private:
  security::Actor actor_;
  std::string verb_;
  size_t answers_ = 0;
  wire::Json incidents_ = wire::Json::array(), replayed_ = wire::Json::array(),
             unreachable_ = wire::Json::array();
};

bool is_worker(std::string_view name) {
  return std::find(std::begin(backend::kWorkers), std::end(backend::kWorkers), name) !=
         std::end(backend::kWorkers);
}

void relay(Context& ctx, Result<wire::Reply>& reply) {
  if (!reply) return ctx.fail(reply.error());
  if (!reply->ok) return ctx.fail(reply->error);
  ctx.reply(wire::encode_json(wire::to_json(reply->body)));
}

}  // namespace

void serve_incidents(Context& ctx, const wire::Request& request, ReadAudit& audit) {
  const std::string& verb = request.type;
  Status allowed = security::may(ctx.actor(), verb, {}, nullptr);
  wire::Fields f(request.body, verb);
  bool all = f.opt_bool("all").value_or(false);
  std::string id = verb == "incidents.ack" ? f.str("id", 512) : "";
  if (allowed && !f.ok()) allowed = f.error();
  if (verb == "incidents") audit.record(ctx, request, {"query", {{"all", all}}}, allowed);
  if (!allowed) return ctx.fail(allowed.error());
  std::string by = ctx.actor().name;
  if (verb == "incidents.ack") {
    auto parsed = incidents::parse_id(id);
    if (!parsed) return ctx.fail(parsed.error());
    if (!is_worker(parsed->worker))
      return ctx.fail(Error::of(errc::kNotFound, N_("no worker is called '{worker}'"),
                                {{"worker", parsed->worker}}, "id"));
    return ctx.ask(parsed->worker, verb, wire::MapBuilder().add("id", id).add("by", by).finish(),
                   relay);
  }
  std::string body = verb == "incidents" ? wire::MapBuilder().add("all", all).finish()
                                         : wire::MapBuilder().add("by", by).finish();
  auto gathering = std::make_shared<Gathering>(ctx.actor(), verb);
  for (std::string_view worker : backend::kWorkers)
    ctx.ask(worker, verb, body, [gathering, worker](Context& ctx, Result<wire::Reply>& reply) {
      if (gathering->take(worker, reply)) ctx.reply(gathering->answer());
    });
}

}  // namespace closeloop::ledger
