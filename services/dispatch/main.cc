// The dispatch worker: owns items in stage `submitted`, waiting to be assigned.
// When a newly submitted item's category has a [[route]] in the config, dispatch
// assigns it itself, as actor "router", in the same commit that receives it, when the
// item's kind lets a due date be computed (an audit finding, a legislative item or a
// project needs the office's --due or milestones, so it waits for a person). An item a
// department returned is never routed again: a person decides where it goes next.
#include <spdlog/spdlog.h>

#include "stage/stage_service.h"
#include "worker/worker_main.h"

namespace closeloop {
namespace {

class Dispatch : public StageService {
 public:
  Dispatch() : StageService("dispatch") {}

 protected:
  Status on_arrival(Context& ctx, const msgpack::object& record) override {
    auto item = decode_item(record);
    if (!item) return item.error();
    const Route* route = ctx.config().find_route(item->category);
    if (item->last_action != "submit" || !route) return ok_status();
    Command assign{.verb = "assign", .item_id = item->id, .actor = "router"};
    assign.set("department", route->department);
    auto step = decide(*item, assign, setting(ctx));
    if (!step) {
      spdlog::info("dispatch: {} waits for the office: {}", item->id, step.error().message);
      return ok_status();
    }
    commit_step(ctx, *step);
    return ok_status();
  }
};

}  // namespace
}  // namespace closeloop

int main(int argc, char** argv) {
  closeloop::Dispatch service;
  return closeloop::worker_main(argc, argv, "dispatch", service);
}
