// The people's view of incidents (docs/operations.md): every worker keeps its own
// (worker/incidents.h); the ledger checks the person's rights, asks every worker, and
// answers with what they all said.
#pragma once

#include "read_audit.h"
#include "wire/message.h"
#include "worker/worker.h"

namespace closeloop::ledger {

// `incidents` {all} (a read: recorded in `audit`), `incidents.ack` {id}, `incidents.replay` {}.
void serve_incidents(Context& ctx, const wire::Request& request, ReadAudit& audit);

}  // namespace closeloop::ledger
