#pragma once
// The five services: each wires its routes and health checks onto a ServiceContext.
#include <string>

namespace dive::services {

class ServiceContext;

void wire_api(ServiceContext& ctx);
void wire_idp(ServiceContext& ctx);
void wire_pdp(ServiceContext& ctx);
void wire_kas(ServiceContext& ctx);
void wire_web(ServiceContext& ctx);

// Before any thread exists: SIGTERM/SIGINT blocked (only ServiceContext::run()'s sigwait receives them),
// SIGPIPE ignored.
void block_stop_signals();

// Entry point of `dive serve <api|idp|pdp|kas|web> --instance CODE`: runs until SIGTERM/SIGINT.
int serve(const std::string& service, const std::string& code);
// `dive serve pdp --data FILE --port N [--decision-log FILE|-|off]`: no instance, plain HTTP on loopback.
int serve_pdp_standalone(const std::string& data_file, int port, const std::string& decision_log);
// `dive serve monitor`: the monitoring stack's receiver and metrics (docs/MONITORING.md), one per $DIVE_HOME.
int serve_monitor();

}  // namespace dive::services
