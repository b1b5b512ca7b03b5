#include <signal.h>

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void block_stop_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int serve(const std::string& service, const std::string& code) {
  block_stop_signals();
  try {
    ServiceContext ctx(service, code);
    if (service == "api")
      wire_api(ctx);
    else if (service == "idp")
      wire_idp(ctx);
    else if (service == "pdp")
      wire_pdp(ctx);
    else if (service == "kas")
      wire_kas(ctx);
    else if (service == "web")
      wire_web(ctx);
    else
      throw std::invalid_argument("unknown service '" + service + "' (api, idp, pdp, kas, web)");
    return ctx.run();
  } catch (const std::exception& e) {
    spdlog::critical("{} of {} cannot start: {}", service, code, e.what());
    return 1;
  }
}

}  // namespace dive::services
